package term

import "reflect"

// Sanitized returns a deep copy of v with Sanitize applied to every string it reaches through
// pointers, exported struct fields, slices, arrays, maps (keys too) and interfaces: what the
// human printers render (names, reasons, messages, log lines from the cluster, OpenSearch or
// a bundle) made safe for a terminal, field by field, while the caller's value stays as it was.
// Unexported fields are copied as they are and not entered; a struct that has them (a
// time.Time) is copied whole.
func Sanitized[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	if clean(rv, 0) {
		return v // nothing to change: no copy (a report of 40,000 pods is mostly clean)
	}
	return sanitizedCopy(rv, 0).Interface().(T)
}

// clean tells whether every string v reaches (as Sanitized walks it) is already safe.
func clean(v reflect.Value, depth int) bool {
	if depth > 64 || !v.IsValid() {
		return true
	}
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		return Sanitize(s) == s
	case reflect.Pointer, reflect.Interface:
		return v.IsNil() || clean(v.Elem(), depth+1)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && !clean(v.Field(i), depth+1) {
				return false
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if !clean(v.Index(i), depth+1) {
				return false
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if !clean(iter.Key(), depth+1) || !clean(iter.Value(), depth+1) {
				return false
			}
		}
	}
	return true
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
