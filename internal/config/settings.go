package config

import (
	"fmt"
	"reflect"
	"sort"
)

// Settings returns every value of c as one line of TOML syntax under its
// dotted key ("auth.session_idle_timeout" → "\"15m0s\""); an entry of an
// array of tables is keyed by its position
// ("forward.destinations[0].address").
// Two configurations hold the same settings exactly when their Settings
// are equal, so the device can name what changed between two starts.
func Settings(c Config) (map[string]string, error) {
	out := map[string]string{}
	if err := flatten(out, "", reflect.ValueOf(c)); err != nil {
		return nil, err
	}
	return out, nil
}

func flatten(out map[string]string, prefix string, v reflect.Value) error {
	switch {
	case v.Kind() == reflect.Struct && !isLeafStruct(v):
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name := f.Tag.Get("toml")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			if prefix != "" {
				name = prefix + "." + name
			}
			if err := flatten(out, name, v.Field(i)); err != nil {
				return err
			}
		}
		return nil
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct && !isLeafStruct(reflect.New(v.Type().Elem()).Elem()):
		if v.Len() == 0 {
			out[prefix] = "[]"
		}
		for i := range v.Len() {
			if err := flatten(out, fmt.Sprintf("%s[%d]", prefix, i), v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	}
	s, err := tomlValue(v.Interface())
	if err != nil {
		return fmt.Errorf("setting %s: %w", prefix, err)
	}
	out[prefix] = s
	return nil
}

// isLeafStruct reports whether a struct is written as one value (it
// marshals itself as text).
func isLeafStruct(v reflect.Value) bool {
	_, ok := v.Interface().(interface{ MarshalText() ([]byte, error) })
	return ok
}

// SettingChange is one setting whose value differs between two
// configurations; Old or New is "" where the key exists on one side only.
type SettingChange struct {
	Key, Old, New string
}

// DiffSettings lists the keys whose values differ between old and new, in
// key order.
func DiffSettings(old, new map[string]string) []SettingChange {
	var out []SettingChange
	for k, nv := range new {
		if ov, ok := old[k]; !ok || ov != nv {
			out = append(out, SettingChange{Key: k, Old: old[k], New: nv})
		}
	}
	for k, ov := range old {
		if _, ok := new[k]; !ok {
			out = append(out, SettingChange{Key: k, Old: ov})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
