// Package fields holds procbeat's field catalog: every field procbeat emits,
// with its Elasticsearch type, parameters, description, example and the event
// types that carry it. The index templates, the field docs and the Go document
// type are generated from it, so the three cannot drift apart.
package fields

import (
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed fields.yml
var catalogYAML []byte

// Event types a field may be carried by.
const (
	EventStart  = "start"
	EventEnd    = "end"
	EventAccess = "access"
)

// Catalog is the parsed fields.yml.
type Catalog struct {
	Datasets []Dataset `yaml:"datasets"`
	Fields   []Field   `yaml:"fields"`

	byName map[string]int
}

// Dataset is one data stream procbeat writes (logs-<name>-<namespace>).
type Dataset struct {
	Name        string   `yaml:"name"`
	Title       string   `yaml:"title"`
	Description string   `yaml:"description"`
	OS          string   `yaml:"os"`
	Events      []string `yaml:"events"`
	KQL         string   `yaml:"kql"`
}

// DataStreamPattern is the index pattern of the dataset's data streams.
func (d *Dataset) DataStreamPattern() string { return "logs-" + d.Name + "-*" }

// Field is one catalog entry.
type Field struct {
	Name             string       `yaml:"name"`
	Type             string       `yaml:"type"`
	IgnoreAbove      int          `yaml:"ignore_above"`
	Normalizer       string       `yaml:"normalizer"`
	Norms            *bool        `yaml:"norms"`
	MultiFields      []MultiField `yaml:"multi_fields"`
	Array            bool         `yaml:"array"`
	Description      string       `yaml:"description"`
	Example          string       `yaml:"example"`
	Events           []string     `yaml:"events"`
	UnmappedUpstream bool         `yaml:"unmapped_upstream"`
	// ObjectType makes an object field a set of free keys whose values
	// all have this type (ECS's labels: object_type keyword).
	ObjectType string `yaml:"object_type"`
}

// MultiField is a sub-field indexing the same value another way.
type MultiField struct {
	Name        string `yaml:"name"`
	Type        string `yaml:"type"`
	IgnoreAbove int    `yaml:"ignore_above"`
	Normalizer  string `yaml:"normalizer"`
	Norms       *bool  `yaml:"norms"`
}

// IsContainer reports whether the field holds sub-fields (nested or object).
func (f *Field) IsContainer() bool { return f.Type == "nested" || f.Type == "object" }

// IsKeyValue reports whether the field is an object of free keys with
// values of one type (object_type), rather than of catalog sub-fields.
func (f *Field) IsKeyValue() bool { return f.Type == "object" && f.ObjectType != "" }

// CarriedBy reports whether events of the given type carry the field.
func (f *Field) CarriedBy(event string) bool { return slices.Contains(f.Events, event) }

// leafTypes are the Elasticsearch field types a leaf may have.
var leafTypes = map[string]bool{
	"keyword": true, "wildcard": true, "constant_keyword": true, "text": true,
	"match_only_text": true, "date": true, "long": true, "unsigned_long": true,
	"double": true, "ip": true, "boolean": true,
}

// Load parses the catalog embedded in the binary.
func Load() (*Catalog, error) { return Parse(catalogYAML) }

// YAML returns the embedded catalog source.
func YAML() []byte { return bytes.Clone(catalogYAML) }

// Parse decodes and validates a catalog.
func Parse(data []byte) (*Catalog, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Catalog
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("fields.yml: %w", err)
	}
	if err := c.index(); err != nil {
		return nil, fmt.Errorf("fields.yml: %w", err)
	}
	return &c, nil
}

func (c *Catalog) index() error {
	if len(c.Datasets) == 0 {
		return fmt.Errorf("no datasets")
	}
	events := map[string]bool{}
	for i, d := range c.Datasets {
		if d.Name == "" || d.Title == "" || len(d.Events) == 0 {
			return fmt.Errorf("dataset %d: name, title and events are required", i)
		}
		for _, e := range d.Events {
			events[e] = true
		}
	}
	c.byName = make(map[string]int, len(c.Fields))
	for i := range c.Fields {
		f := &c.Fields[i]
		where := fmt.Sprintf("field %d (%s)", i, f.Name)
		if f.Name == "" {
			return fmt.Errorf("%s: name is required", where)
		}
		if _, dup := c.byName[f.Name]; dup {
			return fmt.Errorf("%s: duplicate name", where)
		}
		if !leafTypes[f.Type] && !f.IsContainer() {
			return fmt.Errorf("%s: unknown type %q", where, f.Type)
		}
		if f.Description == "" {
			return fmt.Errorf("%s: description is required", where)
		}
		if !f.IsContainer() && f.Example == "" {
			return fmt.Errorf("%s: example is required", where)
		}
		if len(f.Events) == 0 {
			return fmt.Errorf("%s: events is required", where)
		}
		for _, e := range f.Events {
			if !events[e] {
				return fmt.Errorf("%s: event type %q belongs to no dataset", where, e)
			}
		}
		if f.ObjectType != "" && (f.Type != "object" || !leafTypes[f.ObjectType]) {
			return fmt.Errorf("%s: object_type %q needs type object and a leaf type", where, f.ObjectType)
		}
		for _, m := range f.MultiFields {
			if !leafTypes[m.Type] || m.Name == "" {
				return fmt.Errorf("%s: multi-field %q has type %q", where, m.Name, m.Type)
			}
		}
		// A field below a container must follow it and share its events.
		for p := parentName(f.Name); p != ""; p = parentName(p) {
			if j, ok := c.byName[p]; ok {
				if !c.Fields[j].IsContainer() || c.Fields[j].IsKeyValue() {
					return fmt.Errorf("%s: parent %s is a leaf", where, p)
				}
			}
		}
		c.byName[f.Name] = i
	}
	return nil
}

func parentName(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return ""
}

// Field returns the field called name.
func (c *Catalog) Field(name string) (*Field, bool) {
	i, ok := c.byName[name]
	if !ok {
		return nil, false
	}
	return &c.Fields[i], true
}

// Dataset returns the dataset called name.
func (c *Catalog) Dataset(name string) (*Dataset, bool) {
	for i := range c.Datasets {
		if c.Datasets[i].Name == name {
			return &c.Datasets[i], true
		}
	}
	return nil, false
}

// DatasetFields returns the fields carried by any event type of ds, in
// catalog order.
func (c *Catalog) DatasetFields(ds *Dataset) []*Field {
	var out []*Field
	for i := range c.Fields {
		f := &c.Fields[i]
		for _, e := range ds.Events {
			if f.CarriedBy(e) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// Container returns the nearest nested or object ancestor of name, if any.
func (c *Catalog) Container(name string) (*Field, bool) {
	for p := parentName(name); p != ""; p = parentName(p) {
		if f, ok := c.Field(p); ok && f.IsContainer() {
			return f, true
		}
	}
	return nil, false
}

// Names returns all field names, sorted.
func (c *Catalog) Names() []string {
	out := make([]string, 0, len(c.Fields))
	for _, f := range c.Fields {
		out = append(out, f.Name)
	}
	sort.Strings(out)
	return out
}

// Types maps every searchable name, multi-fields included, to its
// Elasticsearch type: what a Kibana data view knows of procbeat's fields.
func (c *Catalog) Types() map[string]string {
	out := make(map[string]string, len(c.Fields)*2)
	for _, f := range c.Fields {
		out[f.Name] = f.Type
		for _, m := range f.MultiFields {
			out[f.Name+"."+m.Name] = m.Type
		}
	}
	return out
}
