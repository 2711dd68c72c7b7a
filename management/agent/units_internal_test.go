//go:build agent

package agent

import (
	"os"
	"slices"
	"strings"
	"testing"

	libconfig "github.com/elastic/elastic-agent-libs/config"
	"gopkg.in/yaml.v3"
)

// The README's Agent policy decodes, unit by unit, into the inputs and
// output it describes: a wineventlog unit and an evtx unit, each in its
// own namespace.
func TestREADMEAgentPolicy(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "## Under Elastic Agent")
	if !ok {
		t.Fatal("README has no Under Elastic Agent section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	blocks := strings.Split(sec, "```yaml\n")[1:]
	if len(blocks) != 1 {
		t.Fatalf("%d yaml blocks in the section, want 1", len(blocks))
	}
	yml, _, _ := strings.Cut(blocks[0], "```")
	var policy struct {
		Outputs map[string]map[string]any
		Inputs  []map[string]any
	}
	if err := yaml.Unmarshal([]byte(yml), &policy); err != nil {
		t.Fatal(err)
	}
	d := decoder{base: libconfig.NewConfig()}
	if _, err := d.output(policy.Outputs["default"]); err != nil {
		t.Fatalf("output: %v", err)
	}
	var got []string
	for _, u := range policy.Inputs {
		ins, err := d.input(u["type"].(string), u)
		if err != nil {
			t.Fatalf("input %s: %v", u["id"], err)
		}
		for _, in := range ins {
			got = append(got, in.Type+" "+in.Namespace+" "+strings.Join(append(in.Channels, in.Paths...), ","))
		}
	}
	want := []string{"wineventlog prod Microsoft-Windows-Sysmon/Operational,Security", "evtx ir_2291 C:/Evidence"}
	if !slices.Equal(got, want) {
		t.Errorf("README policy's inputs %q, want %q", got, want)
	}
}

// A unit's data_stream.namespace applies to its streams, a stream's own
// wins, and one Elasticsearch would refuse fails naming the key.
func TestInputUnitNamespaces(t *testing.T) {
	d := decoder{base: libconfig.NewConfig()}
	ins, err := d.input("procbeat/xml", map[string]any{"id": "u", "data_stream": map[string]any{"namespace": "unit_ns"},
		"streams": []any{
			map[string]any{"paths": []any{"a"}},
			map[string]any{"paths": []any{"b"}, "data_stream": map[string]any{"namespace": "stream_ns"}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 2 || ins[0].Namespace != "unit_ns" || ins[1].Namespace != "stream_ns" {
		t.Fatalf("inputs %+v", ins)
	}
	_, err = d.input("procbeat/xml", map[string]any{"id": "u", "data_stream": map[string]any{"namespace": "Bad-NS"},
		"streams": []any{map[string]any{"paths": []any{"a"}}}})
	if err == nil || !strings.Contains(err.Error(), "procbeat.inputs.0.namespace") {
		t.Fatalf("a bad namespace: %v", err)
	}
}
