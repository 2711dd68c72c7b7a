package beater

import (
	"testing"
	"time"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
)

// The Elasticsearch output gets the section as configured, delivery
// settings included: nothing is copied by hand, so nothing falls back to
// another default on the way.
func TestOutputTakesTheSectionAsConfigured(t *testing.T) {
	cfg := config.Default()
	cfg.Path.Data = t.TempDir()
	es := config.DefaultElasticsearch()
	es.Hosts = []string{"127.0.0.1:1"} // never contacted: the output is only built
	es.BulkMaxSize, es.BulkMaxBytes, es.Workers, es.FlushInterval = 77, 2<<20, 5, 3*time.Second
	cfg.Output.Elasticsearch = &es
	_, out, _, err := prepare(cfg, monitoring.NopLogger{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	want := pipeline.Limits{MaxEvents: 77, MaxBytes: 2 << 20, FlushInterval: 3 * time.Second, Workers: 5}
	if got := out.Limits(); got != want {
		t.Errorf("limits %+v, want %+v", got, want)
	}
}
