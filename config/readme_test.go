package config_test

import (
	"os"
	"strings"
	"testing"
)

// readmeYAML returns the yaml blocks of the README section under heading.
func readmeYAML(t *testing.T, heading string) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("README has no section %q", heading)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var blocks []string
	for _, block := range strings.Split(sec, "```yaml\n")[1:] {
		yml, _, _ := strings.Cut(block, "```")
		blocks = append(blocks, yml)
	}
	return blocks
}

// TestREADMEWindowsConfigsLoad: the procbeat.yml files the README gives for
// a Windows host and a collector are complete and valid.
func TestREADMEWindowsConfigsLoad(t *testing.T) {
	t.Setenv("PROCBEAT_API_KEY", "id:key")
	blocks := readmeYAML(t, "Running on Windows")
	for n, yml := range blocks {
		cfg, err := load(t, yml)
		if err != nil {
			t.Fatalf("README config %d: %v\n%s", n+1, err, yml)
		}
		if len(cfg.Procbeat.Inputs) != 1 || cfg.Procbeat.Inputs[0].Type != "wineventlog" || cfg.Output.Elasticsearch == nil {
			t.Fatalf("README config %d: %+v", n+1, cfg)
		}
	}
	if len(blocks) != 2 {
		t.Fatalf("%d configs in the section, want 2 (host, collector)", len(blocks))
	}
}

// TestREADMEReplayConfigLoads: the procbeat.yml of "Replaying evidence on a
// laptop or in CI" is valid and gives each input its namespace.
func TestREADMEReplayConfigLoads(t *testing.T) {
	blocks := readmeYAML(t, "Replaying evidence on a laptop or in CI")
	if len(blocks) != 1 {
		t.Fatalf("%d yaml blocks in the section, want 1", len(blocks))
	}
	cfg, err := load(t, blocks[0])
	if err != nil {
		t.Fatalf("README config: %v\n%s", err, blocks[0])
	}
	if in := cfg.Procbeat.Inputs; len(in) != 2 || in[0].Namespace != "case_2291" || in[1].Namespace != "case_2292" || cfg.Output.Elasticsearch == nil {
		t.Fatalf("README config: %+v", cfg)
	}
}

// TestShippedConfigAndREADMEShipCommand: the packaged procbeat.yml leaves
// documents on stdout, and README's "To ship into Elasticsearch" settings
// (hosts and api_key on the command line) turn output.elasticsearch on
// with it, as in Beats.
func TestShippedConfigAndREADMEShipCommand(t *testing.T) {
	shipped, err := os.ReadFile("../procbeat.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, string(shipped))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Output.Elasticsearch != nil || cfg.Output.File != nil || cfg.Output.Console != nil {
		t.Fatalf("the shipped file configures an output: %+v", cfg.Output)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, cmd, _ := strings.Cut(string(readme), "To ship into Elasticsearch:\n\n```sh\n")
	line, _, _ := strings.Cut(cmd, "\n")
	var overrides []string
	for _, f := range strings.Split(line, " -E ")[1:] {
		f, _, _ = strings.Cut(f, " collection/")
		overrides = append(overrides, strings.Trim(strings.TrimSpace(f), "'"))
	}
	if len(overrides) != 2 {
		t.Fatalf("README's command %q: -E settings %q", line, overrides)
	}
	cfg, err = load(t, string(shipped), overrides...)
	if err != nil {
		t.Fatal(err)
	}
	if es := cfg.Output.Elasticsearch; es == nil || !es.Enabled || len(es.Hosts) != 1 || es.APIKey == "" {
		t.Fatalf("README's settings do not turn output.elasticsearch on: %+v", es)
	}
}
