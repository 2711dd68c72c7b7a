package template_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/fields/template"
)

func build(t *testing.T, caps template.Capabilities) (*fields.Catalog, template.Bundle) {
	t.Helper()
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := template.Build(cat, template.Options{Capabilities: caps, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return cat, b
}

// lookup finds the mapping of a dotted field in a properties tree,
// descending through object and nested mappers.
func lookup(props map[string]any, name string) (map[string]any, bool) {
	segs := strings.Split(name, ".")
	for i, s := range segs {
		m, ok := props[s].(map[string]any)
		if !ok {
			return nil, false
		}
		if i == len(segs)-1 {
			return m, true
		}
		props, ok = m["properties"].(map[string]any)
		if !ok {
			return nil, false
		}
	}
	return nil, false
}

func decode(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, raw)
	}
	return m
}

func mappingsOf(t *testing.T, b template.Bundle, ds string) map[string]any {
	t.Helper()
	for _, c := range b.ComponentTemplates {
		if c.Name == template.MappingsTemplateName(ds) {
			return decode(t, c.Body)["template"].(map[string]any)["mappings"].(map[string]any)
		}
	}
	t.Fatalf("no mappings component template for %s", ds)
	return nil
}

func TestEveryCatalogFieldMappedExactly(t *testing.T) {
	cat, b := build(t, template.Full)
	ds := &cat.Datasets[0]
	m := mappingsOf(t, b, ds.Name)
	if m["dynamic"] != false {
		t.Errorf("dynamic = %v, want false", m["dynamic"])
	}
	props := m["properties"].(map[string]any)
	n := 0
	for _, f := range cat.DatasetFields(ds) {
		got, ok := lookup(props, f.Name)
		if !ok {
			t.Errorf("%s: not in template", f.Name)
			continue
		}
		if !f.IsContainer() {
			n++
		}
		if got["type"] != f.Type {
			t.Errorf("%s: type %v, want %s", f.Name, got["type"], f.Type)
		}
		if f.IsContainer() {
			continue
		}
		if f.IgnoreAbove > 0 && got["ignore_above"] != float64(f.IgnoreAbove) {
			t.Errorf("%s: ignore_above %v, want %d", f.Name, got["ignore_above"], f.IgnoreAbove)
		}
		if f.IgnoreAbove == 0 && got["ignore_above"] != nil {
			t.Errorf("%s: unexpected ignore_above %v", f.Name, got["ignore_above"])
		}
		subs, _ := got["fields"].(map[string]any)
		if len(subs) != len(f.MultiFields) {
			t.Errorf("%s: %d multi-fields, want %d", f.Name, len(subs), len(f.MultiFields))
		}
		for _, mf := range f.MultiFields {
			sm, ok := subs[mf.Name].(map[string]any)
			if !ok || sm["type"] != mf.Type {
				t.Errorf("%s.%s: %v, want type %s", f.Name, mf.Name, sm, mf.Type)
				continue
			}
			if mf.Normalizer != "" && sm["normalizer"] != mf.Normalizer {
				t.Errorf("%s.%s: normalizer %v", f.Name, mf.Name, sm["normalizer"])
			}
			if mf.Norms != nil && sm["norms"] != *mf.Norms {
				t.Errorf("%s.%s: norms %v", f.Name, mf.Name, sm["norms"])
			}
		}
	}
	// The 123 documented fields, the 4 that Elastic leaves unmapped among them.
	if n < 123 {
		t.Errorf("only %d leaf fields mapped", n)
	}
	for _, name := range []string{"elastic.agent.id", "process.Ext.command_line_truncated", "process.parent.Ext.command_line_truncated", "process.parent.Ext.real.entity_id"} {
		if _, ok := lookup(props, name); !ok {
			t.Errorf("%s: the field Elastic leaves unmapped is not mapped", name)
		}
	}
	if got, _ := lookup(props, "process.Ext.code_signature"); got["type"] != "nested" {
		t.Errorf("process.Ext.code_signature: %v, want nested", got)
	}
}

// TestComposableTemplateShape checks what Elasticsearch's _index_template API
// requires and what procbeat promises: data_stream, the pattern, composed_of
// with an optional @custom template, and a total-fields limit above the count.
func TestComposableTemplateShape(t *testing.T) {
	cat, b := build(t, template.Full)
	if len(b.IndexTemplates) != len(cat.Datasets) || len(b.ComponentTemplates) != 2*len(cat.Datasets) {
		t.Fatalf("%d index and %d component templates for %d datasets", len(b.IndexTemplates), len(b.ComponentTemplates), len(cat.Datasets))
	}
	allowedIndex := []string{"index_patterns", "composed_of", "priority", "data_stream", "_meta", "template", "version", "ignore_missing_component_templates", "allow_auto_create", "deprecated"}
	for i, it := range b.IndexTemplates {
		ds := cat.Datasets[i]
		m := decode(t, it.Body)
		for k := range m {
			if !slices.Contains(allowedIndex, k) {
				t.Errorf("%s: key %q is not part of the composable template API", it.Name, k)
			}
		}
		if _, ok := m["data_stream"].(map[string]any); !ok {
			t.Errorf("%s: no data_stream object", it.Name)
		}
		pats := m["index_patterns"].([]any)
		if len(pats) != 1 || pats[0] != "logs-"+ds.Name+"-*" {
			t.Errorf("%s: index_patterns %v", it.Name, pats)
		}
		composed := m["composed_of"].([]any)
		ignored := m["ignore_missing_component_templates"].([]any)
		if len(ignored) != 1 || ignored[0] != template.CustomTemplateName(ds.Name) || composed[len(composed)-1] != ignored[0] {
			t.Errorf("%s: @custom must be last in composed_of and optional: %v / %v", it.Name, composed, ignored)
		}
		for _, c := range composed[:len(composed)-1] {
			if !slices.ContainsFunc(b.ComponentTemplates, func(n template.Named) bool { return n.Name == c }) {
				t.Errorf("%s: composed_of names %v, which is not generated", it.Name, c)
			}
		}
		if _, ok := m["template"]; ok {
			t.Errorf("%s: lifecycle present without retention", it.Name)
		}
	}
	for _, ct := range b.ComponentTemplates {
		m := decode(t, ct.Body)
		tmpl, ok := m["template"].(map[string]any)
		if !ok || len(m) != 2 {
			t.Errorf("%s: want exactly template and _meta, got %v", ct.Name, m)
		}
		if s, ok := tmpl["settings"].(map[string]any); ok {
			limit := s["index"].(map[string]any)["mapping"].(map[string]any)["total_fields"].(map[string]any)["limit"].(float64)
			_, count, _, _ := template.Mappings(cat, &cat.Datasets[0], template.Full)
			if int(limit) <= count {
				t.Errorf("total_fields.limit %v does not fit %d fields", limit, count)
			}
		}
	}
}

func TestRetentionAddsLifecycle(t *testing.T) {
	cat, _ := build(t, template.Full)
	b, err := template.Build(cat, template.Options{Capabilities: template.Full, Retention: "14d"})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, b.IndexTemplates[0].Body)
	lc := m["template"].(map[string]any)["lifecycle"].(map[string]any)
	if lc["data_retention"] != "14d" {
		t.Errorf("lifecycle %v", lc)
	}
}

func TestDowngradeWithoutXPackTypes(t *testing.T) {
	cat, b := build(t, template.Capabilities{})
	props := mappingsOf(t, b, cat.Datasets[0].Name)["properties"].(map[string]any)
	downgraded := map[string]string{}
	for _, f := range cat.Fields {
		switch f.Type {
		case "wildcard", "constant_keyword":
			downgraded[f.Name] = "keyword"
		case "match_only_text":
			downgraded[f.Name] = "text"
		case "unsigned_long":
			downgraded[f.Name] = "long"
		}
		for _, mf := range f.MultiFields {
			if mf.Type == "match_only_text" {
				downgraded[f.Name+"."+mf.Name] = "text"
			}
		}
	}
	if len(downgraded) == 0 {
		t.Fatal("catalog has no x-pack types; test proves nothing")
	}
	for name, want := range downgraded {
		base, isMulti := strings.CutSuffix(name, ".text")
		got, ok := lookup(props, base)
		if isMulti && ok {
			got, ok = got["fields"].(map[string]any)["text"].(map[string]any)
		}
		if !ok || got["type"] != want {
			t.Errorf("%s: %v, want %s", name, got, want)
		}
		found := slices.ContainsFunc(b.Warnings, func(w string) bool { return strings.HasPrefix(w, "field "+name+":") })
		if !found {
			t.Errorf("%s: no warning naming it in %v", name, b.Warnings)
		}
	}
	if len(b.Warnings) != len(downgraded) {
		t.Errorf("%d warnings for %d downgraded fields: %v", len(b.Warnings), len(downgraded), b.Warnings)
	}
	cl, _ := lookup(props, "process.command_line")
	if cl["ignore_above"] != float64(8191) {
		t.Errorf("downgraded command_line must stay under Lucene's term limit: %v", cl)
	}
	_, full := build(t, template.Full)
	if len(full.Warnings) != 0 {
		t.Errorf("full cluster got warnings: %v", full.Warnings)
	}
}
