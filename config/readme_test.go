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
