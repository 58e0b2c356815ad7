package term

import "reflect"

// Sanitized returns a deep copy of v with Sanitize applied to every string it reaches through
// pointers, exported struct fields, slices, arrays, maps (keys too) and interfaces: what the
// human printers render (names, reasons, messages, log lines from the cluster, OpenSearch or
// a bundle) made safe for a terminal, field by field, while the caller's value stays as it was.
// Unexported fields are copied as they are and not entered; a struct that has them (a
// time.Time) is copied whole.
func Sanitized[T any](v T) T {
	out := sanitizedCopy(reflect.ValueOf(&v).Elem(), 0)
	return out.Interface().(T)
}

func sanitizedCopy(v reflect.Value, depth int) reflect.Value {
	if depth > 64 || !v.IsValid() {
		return v // cycles and absurd nesting: nothing the printers are given goes this deep
	}
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); Sanitize(s) != s {
			return reflect.ValueOf(Sanitize(s)).Convert(v.Type())
		}
		return v
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(sanitizedCopy(v.Elem(), depth+1))
		return n
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type()).Elem()
		n.Set(sanitizedCopy(v.Elem(), depth+1))
		return n
	case reflect.Struct:
		n := reflect.New(v.Type()).Elem()
		n.Set(v)
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				n.Field(i).Set(sanitizedCopy(v.Field(i), depth+1))
			}
		}
		return n
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			n.Index(i).Set(sanitizedCopy(v.Index(i), depth+1))
		}
		return n
	case reflect.Array:
		n := reflect.New(v.Type()).Elem()
		for i := 0; i < v.Len(); i++ {
			n.Index(i).Set(sanitizedCopy(v.Index(i), depth+1))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			n.SetMapIndex(sanitizedCopy(iter.Key(), depth+1), sanitizedCopy(iter.Value(), depth+1))
		}
		return n
	}
	return v
}
