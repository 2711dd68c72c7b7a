//go:build agent

package agent_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	libconfig "github.com/elastic/elastic-agent-libs/config"
	"gopkg.in/yaml.v3"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/management/agent"
)

// The component spec Agent reads: version 2, every input procbeat/<type>
// of a type procbeat reads, the elasticsearch output, and the arguments
// Beats get, which procbeat's configuration accepts.
func TestSpecFile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "procbeat.spec.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Version int `yaml:"version"`
		Inputs  []struct {
			Name      string   `yaml:"name"`
			Platforms []string `yaml:"platforms"`
			Outputs   []string `yaml:"outputs"`
			Command   struct {
				Args []string `yaml:"args"`
			} `yaml:"command"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Version != 2 || len(spec.Inputs) == 0 {
		t.Fatalf("version %d, %d inputs", spec.Version, len(spec.Inputs))
	}
	wantArgs := []string{"-E", "management.enabled=true", "-E", "setup.ilm.enabled=false", "-E", "setup.template.enabled=false", "-E", "logging.to_stderr=true"}
	var seen []string
	for _, in := range spec.Inputs {
		typ, ok := strings.CutPrefix(in.Name, agent.InputTypePrefix)
		if !ok {
			t.Errorf("input %s: not %s<type>", in.Name, agent.InputTypePrefix)
		}
		cfg := config.Default()
		input := config.Input{Type: typ, Enabled: true, Paths: []string{"x"}}
		// Live channels are read on Windows only: Agent must not offer
		// them elsewhere.
		wantPlatforms := []string{"linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}
		if typ == beater.LiveInput {
			input = config.Input{Type: typ, Enabled: true, Channels: []string{"Security"}}
			wantPlatforms = []string{"windows/amd64", "windows/arm64"}
		}
		cfg.Procbeat.Inputs = []config.Input{input}
		if err := cfg.Validate(); err != nil {
			t.Errorf("input %s: %v", in.Name, err)
		}
		seen = append(seen, typ)
		if !slices.Equal(in.Outputs, []string{"elasticsearch"}) || !slices.Equal(in.Platforms, wantPlatforms) {
			t.Errorf("input %s: outputs %v, platforms %v, want platforms %v", in.Name, in.Outputs, in.Platforms, wantPlatforms)
		}
		if !slices.Equal(in.Command.Args, wantArgs) {
			t.Errorf("input %s: args %q, want %q", in.Name, in.Command.Args, wantArgs)
		}
	}
	if want := []string{"evtx", "xml", "json", beater.LiveInput}; !slices.Equal(seen, want) {
		t.Errorf("spec inputs %v, want %v", seen, want)
	}
	flags := libconfig.NewSettingsFlag(libconfig.NewConfig())
	for i := 1; i < len(wantArgs); i += 2 {
		if err := flags.Set(wantArgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Decode(flags.Config())
	if err != nil {
		t.Fatalf("the spec's arguments: %v", err)
	}
	if !cfg.Management.Enabled || cfg.Setup.Template.Enabled || !cfg.Logging.ToStderr {
		t.Errorf("decoded %+v %+v %+v", cfg.Management, cfg.Setup, cfg.Logging)
	}
}
