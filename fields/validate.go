package fields

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Validate checks one JSON document against the dataset's fields: every leaf
// must be a catalog field carried by the dataset, and its value must be of the
// field's type. An empty dataset allows every catalog field. It is for tests
// and `procbeat test`, not the hot path.
func (c *Catalog) Validate(dataset string, doc []byte) []error {
	allowed := map[string]*Field{}
	if dataset == "" {
		for i := range c.Fields {
			allowed[c.Fields[i].Name] = &c.Fields[i]
		}
	} else {
		ds, ok := c.Dataset(dataset)
		if !ok {
			return []error{fmt.Errorf("unknown dataset %q", dataset)}
		}
		for _, f := range c.DatasetFields(ds) {
			allowed[f.Name] = f
		}
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return []error{fmt.Errorf("document is not a JSON object: %w", err)}
	}
	var errs []error
	c.validateObject("", root, allowed, &errs)
	return errs
}

func (c *Catalog) validateObject(prefix string, obj map[string]any, allowed map[string]*Field, errs *[]error) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		v := obj[k]
		f, ok := allowed[name]
		if !ok {
			if sub, isObj := v.(map[string]any); isObj && c.hasFieldsBelow(name, allowed) {
				c.validateObject(name, sub, allowed, errs)
				continue
			}
			*errs = append(*errs, fmt.Errorf("%s: not a catalog field of this dataset", name))
			continue
		}
		if f.IsKeyValue() {
			sub, isObj := v.(map[string]any)
			if !isObj {
				*errs = append(*errs, fmt.Errorf("%s: want an object, got %T", name, v))
				continue
			}
			for k, one := range sub {
				if err := checkValue(f.ObjectType, one); err != nil {
					*errs = append(*errs, fmt.Errorf("%s.%s: %w", name, k, err))
				}
			}
			continue
		}
		if f.IsContainer() {
			items, isArr := v.([]any)
			if !isArr {
				items = []any{v}
			}
			for _, it := range items {
				sub, isObj := it.(map[string]any)
				if !isObj {
					*errs = append(*errs, fmt.Errorf("%s: want objects, got %T", name, it))
					continue
				}
				c.validateObject(name, sub, allowed, errs)
			}
			continue
		}
		values, isArr := v.([]any)
		if isArr && !f.Array {
			*errs = append(*errs, fmt.Errorf("%s: array for a single-valued field", name))
		}
		if !isArr {
			values = []any{v}
		}
		for _, one := range values {
			if err := checkValue(f.Type, one); err != nil {
				*errs = append(*errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	}
}

func (c *Catalog) hasFieldsBelow(prefix string, allowed map[string]*Field) bool {
	for name := range allowed {
		if strings.HasPrefix(name, prefix+".") {
			return true
		}
	}
	return false
}

func checkValue(typ string, v any) error {
	switch typ {
	case "keyword", "wildcard", "constant_keyword", "text", "match_only_text":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("want a string for %s, got %v", typ, v)
		}
	case "ip":
		s, ok := v.(string)
		if _, err := netip.ParseAddr(s); !ok || err != nil {
			return fmt.Errorf("want an IP address, got %v", v)
		}
	case "date":
		s, ok := v.(string)
		if _, err := time.Parse(time.RFC3339Nano, s); !ok || err != nil {
			return fmt.Errorf("want an RFC 3339 date, got %v", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("want a boolean, got %v", v)
		}
	case "long":
		n, ok := v.(json.Number)
		if _, err := strconv.ParseInt(string(n), 10, 64); !ok || err != nil {
			return fmt.Errorf("want a long, got %v", v)
		}
	case "unsigned_long":
		n, ok := v.(json.Number)
		if _, err := strconv.ParseUint(string(n), 10, 64); !ok || err != nil {
			return fmt.Errorf("want an unsigned long, got %v", v)
		}
	case "double":
		n, ok := v.(json.Number)
		f, err := strconv.ParseFloat(string(n), 64)
		if !ok || err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("want a double, got %v", v)
		}
	default:
		return fmt.Errorf("unknown type %s", typ)
	}
	return nil
}

// ExampleDocument builds a document of the dataset from the catalog's
// examples, typed as each field's mapping expects. Tests index it to prove the
// template accepts every field.
func (c *Catalog) ExampleDocument(dataset string) (map[string]any, error) {
	ds, ok := c.Dataset(dataset)
	if !ok {
		return nil, fmt.Errorf("unknown dataset %q", dataset)
	}
	doc := map[string]any{}
	containers := map[string]map[string]any{}
	for _, f := range c.DatasetFields(ds) {
		if f.IsKeyValue() {
			var obj map[string]any
			if err := json.Unmarshal([]byte(f.Example), &obj); err != nil {
				return nil, fmt.Errorf("field %s: example %q: %w", f.Name, f.Example, err)
			}
			setPath(doc, f.Name, obj)
			continue
		}
		if f.IsContainer() {
			obj := map[string]any{}
			containers[f.Name] = obj
			var v any = obj
			if f.Array {
				v = []any{obj}
			}
			setPath(doc, f.Name, v)
			continue
		}
		v, err := exampleValue(f)
		if err != nil {
			return nil, fmt.Errorf("field %s: example %q: %w", f.Name, f.Example, err)
		}
		if parent, ok := c.Container(f.Name); ok {
			setPath(containers[parent.Name], strings.TrimPrefix(f.Name, parent.Name+"."), v)
			continue
		}
		setPath(doc, f.Name, v)
	}
	return doc, nil
}

func exampleValue(f *Field) (any, error) {
	var v any
	var err error
	switch f.Type {
	case "long":
		v, err = strconv.ParseInt(f.Example, 10, 64)
	case "unsigned_long":
		v, err = strconv.ParseUint(f.Example, 10, 64)
	case "double":
		v, err = strconv.ParseFloat(f.Example, 64)
	case "boolean":
		v, err = strconv.ParseBool(f.Example)
	default:
		v = f.Example
	}
	if err != nil {
		return nil, err
	}
	if f.Array {
		return []any{v}, nil
	}
	return v, nil
}

func setPath(m map[string]any, name string, v any) {
	segs := strings.Split(name, ".")
	for _, s := range segs[:len(segs)-1] {
		next, ok := m[s].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[s] = next
		}
		m = next
	}
	m[segs[len(segs)-1]] = v
}
