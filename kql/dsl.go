package kql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Object is a JSON object that keeps its members in order, so a translated
// query prints the same way every time and in the order Kibana writes it.
// Values are Object, []any, string, bool, nil or int.
type Object []Member

// Member is one key/value pair of an Object.
type Member struct {
	Key   string
	Value any
}

// Get returns the value of key and whether it is present.
func (o Object) Get(key string) (any, bool) {
	for _, m := range o {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// MarshalJSON writes the members in order.
func (o Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, o, "", ""); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// String is the compact JSON text, without HTML escaping.
func (o Object) String() string {
	var b bytes.Buffer
	if err := writeJSON(&b, o, "", ""); err != nil {
		return fmt.Sprintf("!(%v)", err)
	}
	return b.String()
}

// Indent is the JSON text indented by two blanks per level.
func (o Object) Indent() string {
	var b bytes.Buffer
	if err := writeJSON(&b, o, "\n", "  "); err != nil {
		return fmt.Sprintf("!(%v)", err)
	}
	return b.String()
}

func writeJSON(b *bytes.Buffer, v any, nl, ind string) error {
	inner := nl
	if nl != "" {
		inner = nl + ind
	}
	switch x := v.(type) {
	case Object:
		if len(x) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(inner)
			writeString(b, m.Key)
			b.WriteByte(':')
			if nl != "" {
				b.WriteByte(' ')
			}
			if err := writeJSON(b, m.Value, inner, ind); err != nil {
				return fmt.Errorf("%s: %w", m.Key, err)
			}
		}
		b.WriteString(nl)
		b.WriteByte('}')
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(inner)
			if err := writeJSON(b, e, inner, ind); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		b.WriteString(nl)
		b.WriteByte(']')
	case string:
		writeString(b, x)
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case nil:
		b.WriteString("null")
	case int:
		fmt.Fprintf(b, "%d", x)
	default:
		return fmt.Errorf("unsupported JSON value %T", v)
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	var sb bytes.Buffer
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.WriteString(strings.TrimSuffix(sb.String(), "\n"))
}
