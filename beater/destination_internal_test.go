package beater

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/monitoring"
)

func esDestination(hosts ...string) destination {
	cfg := config.Config{Output: config.Output{Elasticsearch: &config.Elasticsearch{Enabled: true}}}
	cfg.Output.Elasticsearch.Hosts = hosts
	cfg.Procbeat.Namespace = "default"
	return destinationOf(cfg, CodecJSON)
}

// TestDestinationHosts: the same cluster written two ways is one
// destination, another host is another, and no password reaches path.data.
func TestDestinationHosts(t *testing.T) {
	a, b := esDestination("es:9200", "http://es2:9200"), esDestination("http://es2", "http://es:9200")
	if !a.equal(b) {
		t.Errorf("%v and %v differ", a.Hosts, b.Hosts)
	}
	if a.equal(esDestination("es:9200")) {
		t.Error("a host less is the same destination")
	}
	if d := esDestination("https://user:secret@es:9200"); !slices.Equal(d.Hosts, []string{"https://es:9200"}) {
		t.Errorf("hosts %v", d.Hosts)
	}
}

// TestMatchDestination: checkpoints written for another destination are
// removed (with the process table) for a replay and kept for a run; the
// same destination, or checkpoints from before destinations were
// recorded, keep them.
func TestMatchDestination(t *testing.T) {
	files := []string{"registry.json", "tracker.journal", "tracker.snapshot"}
	setup := func(t *testing.T, recorded *destination) string {
		dir := t.TempDir()
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if recorded != nil {
			if err := matchDestination(dir, filepath.Join(dir, "registry.json"), *recorded, true, monitoring.NopLogger{}); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	kept := func(dir string) bool {
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				return false
			}
		}
		return true
	}
	es, other := esDestination("es"), esDestination("other")
	for _, tc := range []struct {
		name      string
		recorded  *destination
		readAgain bool
		kept      bool
	}{
		{"same destination", &es, true, true},
		{"no record yet", nil, true, true},
		{"another destination, replay", &other, true, false},
		{"another destination, run", &other, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := setup(t, tc.recorded)
			if err := matchDestination(dir, filepath.Join(dir, "registry.json"), es, tc.readAgain, monitoring.NopLogger{}); err != nil {
				t.Fatal(err)
			}
			if kept(dir) != tc.kept {
				t.Errorf("checkpoints kept: %v, want %v", kept(dir), tc.kept)
			}
			raw, err := os.ReadFile(filepath.Join(dir, destinationFile))
			if err != nil || !strings.Contains(string(raw), `"hosts":["http://es:9200"]`) {
				t.Errorf("recorded %s, %v", raw, err)
			}
		})
	}
}
