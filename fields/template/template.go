// Package template builds the Elasticsearch component and composable index
// templates for procbeat's data streams from the field catalog.
package template

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/procbeat/procbeat/fields"
)

// Capabilities says which x-pack field types the target cluster supports.
// Clusters without them (OpenSearch, minimal distributions) get a template in
// which those types fall back to ones every cluster has.
type Capabilities struct {
	Wildcard        bool
	ConstantKeyword bool
	MatchOnlyText   bool
	UnsignedLong    bool
}

// Full is what a default Elasticsearch distribution supports.
var Full = Capabilities{Wildcard: true, ConstantKeyword: true, MatchOnlyText: true, UnsignedLong: true}

// Options steer the generated templates.
type Options struct {
	Capabilities Capabilities
	// Priority of the composable index templates. Elastic's own integration
	// templates use 200; ours must differ so both can coexist.
	Priority int
	// Retention is the data stream lifecycle's data_retention ("30d");
	// empty means no lifecycle block.
	Retention string
	// Shards and Replicas of the backing indices; zero leaves the cluster default.
	Shards   int
	Replicas *int
	// Version is procbeat's version, recorded in _meta.
	Version string
}

// Named is one template to PUT under a name.
type Named struct {
	Name string
	Body json.RawMessage
	// Patterns are an index template's index_patterns (nil for a
	// component template), for setup's check of the cluster's others.
	Patterns []string
}

// Bundle is everything `setup` installs.
type Bundle struct {
	ComponentTemplates []Named
	IndexTemplates     []Named
	// Warnings name each field downgraded for missing capabilities.
	Warnings []string
}

// Names of what we install for a dataset.
func IndexTemplateName(ds string) string    { return "procbeat-logs-" + ds }
func MappingsTemplateName(ds string) string { return "logs-" + ds + "@procbeat-mappings" }
func SettingsTemplateName(ds string) string { return "logs-" + ds + "@procbeat-settings" }
func CustomTemplateName(ds string) string   { return "logs-" + ds + "@custom" }

// DefaultPriority sits above Elastic's integration templates (200) so that
// procbeat's mappings win for the same pattern, and is configurable.
const DefaultPriority = 210

// Build renders the templates of every dataset in the catalog.
func Build(cat *fields.Catalog, opts Options) (Bundle, error) {
	if opts.Priority == 0 {
		opts.Priority = DefaultPriority
	}
	var b Bundle
	for i := range cat.Datasets {
		ds := &cat.Datasets[i]
		mappings, count, warns, err := Mappings(cat, ds, opts.Capabilities)
		if err != nil {
			return Bundle{}, fmt.Errorf("dataset %s: %w", ds.Name, err)
		}
		for _, w := range warns {
			if !slices.Contains(b.Warnings, w) {
				b.Warnings = append(b.Warnings, w)
			}
		}
		meta := map[string]any{
			"managed_by":     "procbeat",
			"procbeat":       opts.Version,
			"catalog_sha256": catalogDigest(),
			"downgraded":     len(warns) > 0,
		}
		idx := map[string]any{
			"mapping": map[string]any{"total_fields": map[string]any{"limit": TotalFieldsLimit(count)}},
		}
		if opts.Shards > 0 {
			idx["number_of_shards"] = opts.Shards
		}
		if opts.Replicas != nil {
			idx["number_of_replicas"] = *opts.Replicas
		}
		settings := map[string]any{"template": map[string]any{"settings": map[string]any{"index": idx}}, "_meta": meta}
		mapBody := map[string]any{"template": map[string]any{"mappings": mappings}, "_meta": meta}
		patterns := []string{ds.DataStreamPattern()}
		index := map[string]any{
			"index_patterns":                     patterns,
			"data_stream":                        map[string]any{},
			"priority":                           opts.Priority,
			"composed_of":                        []string{MappingsTemplateName(ds.Name), SettingsTemplateName(ds.Name), CustomTemplateName(ds.Name)},
			"ignore_missing_component_templates": []string{CustomTemplateName(ds.Name)},
			"_meta":                              meta,
		}
		if opts.Retention != "" {
			index["template"] = map[string]any{"lifecycle": map[string]any{"data_retention": opts.Retention}}
		}
		for _, t := range []struct {
			name     string
			body     any
			patterns []string
			dst      *[]Named
		}{
			{MappingsTemplateName(ds.Name), mapBody, nil, &b.ComponentTemplates},
			{SettingsTemplateName(ds.Name), settings, nil, &b.ComponentTemplates},
			{IndexTemplateName(ds.Name), index, patterns, &b.IndexTemplates},
		} {
			raw, err := json.Marshal(t.body)
			if err != nil {
				return Bundle{}, fmt.Errorf("template %s: %w", t.name, err)
			}
			*t.dst = append(*t.dst, Named{Name: t.name, Body: raw, Patterns: t.patterns})
		}
	}
	return b, nil
}

// TotalFieldsLimit leaves room above the mapped field count for @custom
// component templates while staying far below what would hide a mapping
// explosion.
func TotalFieldsLimit(mapped int) int {
	limit := (mapped*3/2 + 99) / 100 * 100
	return max(limit, 1000)
}

func catalogDigest() string {
	sum := sha256.Sum256(fields.YAML())
	return hex.EncodeToString(sum[:8])
}

// Mappings returns the mappings object of one dataset, the number of fields
// Elasticsearch counts against index.mapping.total_fields.limit (objects,
// leaves and multi-fields), and a warning per downgraded field.
func Mappings(cat *fields.Catalog, ds *fields.Dataset, caps Capabilities) (map[string]any, int, []string, error) {
	root := map[string]any{}
	count := 0
	var warns []string
	var dynamic []any
	for _, f := range cat.DatasetFields(ds) {
		props, n, err := propertiesFor(root, f.Name)
		if err != nil {
			return nil, 0, nil, err
		}
		count += n
		leaf := strings.TrimPrefix(f.Name, parentOf(f.Name))
		leaf = strings.TrimPrefix(leaf, ".")
		if f.IsKeyValue() {
			// Free keys (labels): the one dynamic object, its values
			// mapped with object_type by a dynamic template.
			props[leaf] = map[string]any{"type": "object", "dynamic": true}
			m, w := leafMapping(f.Name, f.ObjectType, 1024, "", nil, caps)
			warns = append(warns, w...)
			dynamic = append(dynamic, map[string]any{f.Name: map[string]any{
				"path_match": f.Name + ".*", "match_mapping_type": "string", "mapping": m,
			}})
			count++
			continue
		}
		if f.IsContainer() {
			if existing, ok := props[leaf].(map[string]any); ok {
				existing["type"] = f.Type
				continue
			}
			props[leaf] = map[string]any{"type": f.Type, "properties": map[string]any{}}
			count++
			continue
		}
		m, w := leafMapping(f.Name, f.Type, f.IgnoreAbove, f.Normalizer, f.Norms, caps)
		warns = append(warns, w...)
		count++
		if len(f.MultiFields) > 0 {
			sub := map[string]any{}
			for _, mf := range f.MultiFields {
				mm, w := leafMapping(f.Name+"."+mf.Name, mf.Type, mf.IgnoreAbove, mf.Normalizer, mf.Norms, caps)
				warns = append(warns, w...)
				sub[mf.Name] = mm
				count++
			}
			m["fields"] = sub
		}
		props[leaf] = m
	}
	mappings := map[string]any{
		"dynamic":           false,
		"date_detection":    false,
		"numeric_detection": false,
		"properties":        root,
	}
	if len(dynamic) > 0 {
		mappings["dynamic_templates"] = dynamic
	}
	return mappings, count, warns, nil
}

func parentOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return ""
}

// propertiesFor walks (creating objects as needed) to the properties map
// that holds name's last segment, returning how many object mappers it made.
func propertiesFor(root map[string]any, name string) (map[string]any, int, error) {
	segs := strings.Split(name, ".")
	props := root
	made := 0
	for _, s := range segs[:len(segs)-1] {
		node, ok := props[s].(map[string]any)
		if !ok {
			if _, clash := props[s]; clash {
				return nil, 0, fmt.Errorf("field %s: %s is already a leaf", name, s)
			}
			node = map[string]any{"properties": map[string]any{}}
			props[s] = node
			made++
		}
		p, ok := node["properties"].(map[string]any)
		if !ok {
			return nil, 0, fmt.Errorf("field %s: %s is already a leaf", name, s)
		}
		props = p
	}
	return props, made, nil
}

func leafMapping(name, typ string, ignoreAbove int, normalizer string, norms *bool, caps Capabilities) (map[string]any, []string) {
	var warns []string
	orig := typ
	switch {
	case typ == "wildcard" && !caps.Wildcard:
		typ = "keyword"
		// Keep long command lines searchable up to Lucene's term limit
		// (32766 bytes, 4 bytes per UTF-8 character at worst).
		if ignoreAbove == 0 {
			ignoreAbove = 8191
		}
	case typ == "constant_keyword" && !caps.ConstantKeyword:
		typ = "keyword"
	case typ == "match_only_text" && !caps.MatchOnlyText:
		typ = "text"
		f := false
		norms = &f
	case typ == "unsigned_long" && !caps.UnsignedLong:
		// Session ids fit a long; only values above 2^63 would be refused.
		typ = "long"
	}
	if typ != orig {
		warns = append(warns, fmt.Sprintf("field %s: cluster lacks %s, mapped as %s", name, orig, typ))
	}
	m := map[string]any{"type": typ}
	if ignoreAbove > 0 {
		m["ignore_above"] = ignoreAbove
	}
	if normalizer != "" {
		m["normalizer"] = normalizer
	}
	if norms != nil {
		m["norms"] = *norms
	}
	return m, warns
}
