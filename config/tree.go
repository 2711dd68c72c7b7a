package config

import (
	"maps"
	"reflect"
	"strings"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
)

// Tree renders c as the settings tree it amounts to: every key with its
// effective value (defaults included, ${VAR} resolved, paths made
// absolute), under the names procbeat.yml uses, durations as Beats write
// them (30s). Outputs not configured are left out. `procbeat export
// config` prints it, with MaskSecrets applied.
func (c Config) Tree() map[string]any {
	t, _ := treeOf(reflect.ValueOf(c)).(map[string]any)
	return t
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	levelType    = reflect.TypeOf(logp.Level(0))
)

func treeOf(v reflect.Value) any {
	switch v.Type() {
	case durationType:
		return time.Duration(v.Int()).String()
	case levelType:
		return logp.Level(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return treeOf(v.Elem())
	case reflect.Struct:
		m := make(map[string]any, v.NumField())
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("config"), ",")
			if name == "" && opts == "inline" {
				// A component's settings embedded in their section.
				if sub, ok := treeOf(v.Field(i)).(map[string]any); ok {
					maps.Copy(m, sub)
				}
				continue
			}
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			if x := treeOf(v.Field(i)); x != nil {
				m[name] = x
			}
		}
		return m
	case reflect.Slice, reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = treeOf(v.Index(i))
		}
		return out
	case reflect.Map:
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			m[it.Key().String()] = treeOf(it.Value())
		}
		return m
	}
	return v.Interface()
}
