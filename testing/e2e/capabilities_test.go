package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/fields/template"
	"github.com/procbeat/procbeat/testing/estest"
)

// fallbacks are the types setup maps a field to when the cluster lacks
// its catalog type.
var fallbacks = map[string]string{
	"wildcard":         "keyword",
	"constant_keyword": "keyword",
	"match_only_text":  "text",
	"unsigned_long":    "long",
}

func lacks(caps template.Capabilities, typ string) bool {
	switch typ {
	case "wildcard":
		return !caps.Wildcard
	case "constant_keyword":
		return !caps.ConstantKeyword
	case "match_only_text":
		return !caps.MatchOnlyText
	case "unsigned_long":
		return !caps.UnsignedLong
	}
	return false
}

// TestSetupAdaptsToCluster: on a cluster without the x-pack field types
// (procbeat's local integ-test-zip image) setup installs the downgraded
// templates and warns once per downgraded field; on a full cluster (the
// official image) it installs the exact ones without a warning.
func TestSetupAdaptsToCluster(t *testing.T) {
	c := estest.Start(t)
	caps := clusterCapabilities(t, c)
	t.Run("minimal", func(t *testing.T) {
		if caps.Wildcard || caps.ConstantKeyword || caps.MatchOnlyText || caps.UnsignedLong {
			t.Skipf("cluster %s supports %+v: the minimal case needs procbeat's local integ-test-zip image (%s)", c.Version, caps, estest.LocalImage)
		}
		checkSetup(t, c, caps)
	})
	t.Run("full", func(t *testing.T) {
		if caps != template.Full {
			t.Skipf("cluster %s lacks some field types (%+v): the full case needs a full distribution such as the official image %s (not available on this machine; it is used when present, or via %s)", c.Version, caps, estest.DefaultImage, estest.EnvImage)
		}
		checkSetup(t, c, caps)
	})
}

func checkSetup(t *testing.T, c *estest.Cluster, caps template.Capabilities) {
	e := es{t, c}
	_, stderr := setup(t, c)
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}

	// Every field or multi-field of any dataset whose type the cluster
	// lacks, as the catalog declares it.
	inDataset := map[string]bool{}
	for i := range cat.Datasets {
		for _, f := range cat.DatasetFields(&cat.Datasets[i]) {
			inDataset[f.Name] = true
		}
	}
	downgraded := map[string]string{}
	for _, f := range cat.Fields {
		if !inDataset[f.Name] {
			continue
		}
		if lacks(caps, f.Type) {
			downgraded[f.Name] = f.Type
		}
		for _, m := range f.MultiFields {
			if lacks(caps, m.Type) {
				downgraded[f.Name+"."+m.Name] = m.Type
			}
		}
	}
	warnings := 0
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "warning:") {
			warnings++
		}
	}
	for name, typ := range downgraded {
		line := fmt.Sprintf("field %s: cluster lacks %s", name, typ)
		if n := strings.Count(stderr, line); n != 1 {
			t.Errorf("stderr has %d warnings %q, want 1", n, line)
		}
	}
	if warnings != len(downgraded) {
		t.Errorf("%d warnings for %d downgraded fields:\n%s", warnings, len(downgraded), stderr)
	}
	t.Logf("%d fields downgraded, each with its warning", len(downgraded))

	for i := range cat.Datasets {
		ds := &cat.Datasets[i]
		name := template.MappingsTemplateName(ds.Name)
		var res struct {
			ComponentTemplates []struct {
				ComponentTemplate struct {
					Template struct {
						Mappings map[string]any `json:"mappings"`
					} `json:"template"`
				} `json:"component_template"`
			} `json:"component_templates"`
		}
		e.decode(e.do(http.MethodGet, "/_component_template/"+name, nil), &res)
		if len(res.ComponentTemplates) != 1 {
			t.Fatalf("component template %s: %d found", name, len(res.ComponentTemplates))
		}
		installed := res.ComponentTemplates[0].ComponentTemplate.Template.Mappings
		want, _, _, err := template.Mappings(cat, ds, caps)
		if err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, marshal(t, installed), marshal(t, want)) {
			t.Errorf("component template %s differs from the generated mappings for %+v", name, caps)
		}
		leaves := map[string]string{}
		flattenMapping("", installed["properties"], leaves)
		for field, typ := range downgraded {
			params, ok := leaves[field]
			if !ok {
				continue // the field belongs to the other dataset
			}
			var p struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal([]byte(params), &p); err != nil {
				t.Fatal(err)
			}
			if p.Type != fallbacks[typ] {
				t.Errorf("%s: %s is mapped as %q, want %s in place of %s", name, field, p.Type, fallbacks[typ], typ)
			}
		}
	}
}

func marshal(t *testing.T, v any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
