package term

import "reflect"

// SanitizeAll applies Sanitize, in place, to every string that v reaches through pointers,
// structs, slices, arrays, maps and interfaces: the one place where what the human printers
// are given (names, reasons, messages, log lines from the cluster, OpenSearch or a bundle)
// is made safe for a terminal, field by field, before any of it is rendered. v must be a
// pointer (or a map or slice); what it points to is the printer's to change.
func SanitizeAll(v any) {
	sanitizeValue(reflect.ValueOf(v), 0)
}

func sanitizeValue(v reflect.Value, depth int) {
	if depth > 64 || !v.IsValid() {
		return // cycles and absurd nesting: nothing the printers are given goes this deep
	}
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			if s := v.String(); Sanitize(s) != s {
				v.SetString(Sanitize(s))
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			sanitizeValue(v.Elem(), depth+1)
		}
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		e := v.Elem()
		if e.Kind() == reflect.String && v.CanSet() {
			v.Set(reflect.ValueOf(Sanitize(e.String())).Convert(e.Type()))
			return
		}
		sanitizeValue(e, depth+1)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				sanitizeValue(v.Field(i), depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			sanitizeValue(v.Index(i), depth+1)
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		iter := v.MapRange()
		type kv struct{ k, v reflect.Value }
		var changed []kv
		for iter.Next() {
			val := iter.Value()
			// Map values cannot be set in place: sanitise a copy and put it back.
			cp := reflect.New(val.Type()).Elem()
			cp.Set(val)
			sanitizeValue(cp, depth+1)
			k := iter.Key()
			if k.Kind() == reflect.String && Sanitize(k.String()) != k.String() {
				changed = append(changed, kv{k, cp})
				continue
			}
			v.SetMapIndex(k, cp)
		}
		for _, c := range changed {
			v.SetMapIndex(c.k, reflect.Value{})
			v.SetMapIndex(reflect.ValueOf(Sanitize(c.k.String())).Convert(c.k.Type()), c.v)
		}
	}
}
