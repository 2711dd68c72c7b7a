package config_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEWindowsConfigsLoad: the procbeat.yml files the README gives for
// a Windows host and a collector are complete and valid.
func TestREADMEWindowsConfigsLoad(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "## Running on Windows")
	if !ok {
		t.Fatal("README has no Running on Windows section")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	t.Setenv("PROCBEAT_API_KEY", "id:key")
	n := 0
	for _, block := range strings.Split(sec, "```yaml\n")[1:] {
		yml, _, _ := strings.Cut(block, "```")
		cfg, err := load(t, yml)
		if err != nil {
			t.Fatalf("README config %d: %v\n%s", n+1, err, yml)
		}
		if len(cfg.Procbeat.Inputs) != 1 || cfg.Procbeat.Inputs[0].Type != "wineventlog" || cfg.Output.Elasticsearch == nil {
			t.Fatalf("README config %d: %+v", n+1, cfg)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d configs in the section, want 2 (host, collector)", n)
	}
}

// TestREADMEReplayConfigLoads: the procbeat.yml of "Replaying evidence on a
// laptop or in CI" is valid and gives each input its namespace.
func TestREADMEReplayConfigLoads(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "## Replaying evidence on a laptop or in CI")
	if !ok {
		t.Fatal("README has no section on replaying evidence")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	blocks := strings.Split(sec, "```yaml\n")[1:]
	if len(blocks) != 1 {
		t.Fatalf("%d yaml blocks in the section, want 1", len(blocks))
	}
	yml, _, _ := strings.Cut(blocks[0], "```")
	cfg, err := load(t, yml)
	if err != nil {
		t.Fatalf("README config: %v\n%s", err, yml)
	}
	if in := cfg.Procbeat.Inputs; len(in) != 2 || in[0].Namespace != "case_2291" || in[1].Namespace != "case_2292" || cfg.Output.Elasticsearch == nil {
		t.Fatalf("README config: %+v", cfg)
	}
}
