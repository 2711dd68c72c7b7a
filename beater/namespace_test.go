package beater

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
)

// indexOutput keeps each delivered document's index and body.
type indexOutput struct {
	mu     sync.Mutex
	index  []string
	bodies [][]byte
}

func (o *indexOutput) Limits() pipeline.Limits { return pipeline.Limits{MaxEvents: 512} }
func (o *indexOutput) Close() error            { return nil }
func (o *indexOutput) Publish(_ context.Context, evs []pipeline.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range evs {
		o.index = append(o.index, e.Index)
		o.bodies = append(o.bodies, append([]byte(nil), e.Body...))
	}
	return nil
}

// TestInputNamespace: an input's namespace is its documents' (index and
// data_stream.namespace), with Sysmon/Security twins merged as usual; an
// input without one keeps procbeat.namespace.
func TestInputNamespace(t *testing.T) {
	raw, err := os.ReadFile("../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Path.Data = t.TempDir()
	cfg.Procbeat.Namespace = "prod"
	out := &indexOutput{}
	b, err := NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"alpha", "beta", ""} {
		dir := t.TempDir()
		tag := ns
		if tag == "" {
			tag = "prod"
		}
		// Each input's events are of hosts of their own domain.
		s := strings.ReplaceAll(string(raw), ".corp.example.com", "."+tag+".example.com")
		if err := os.WriteFile(filepath.Join(dir, "s.xml"), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if failed := b.scan(context.Background(), []string{dir}, source.FormatXML, &inputScope{ns: ns}, map[string]fileState{}, map[string]bool{}, b.scanProblems()); len(failed) > 0 {
			t.Fatal(failed)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	perNS := map[string]int{}
	for i, body := range out.bodies {
		var doc struct {
			DataStream struct{ Dataset, Namespace string } `json:"data_stream"`
			Host       struct{ Name string }               `json:"host"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		ns := doc.DataStream.Namespace
		if !strings.HasSuffix(doc.Host.Name, "."+ns+".example.com") {
			t.Errorf("host %s in namespace %s", doc.Host.Name, ns)
		}
		if want := "logs-" + doc.DataStream.Dataset + "-" + ns; out.index[i] != want {
			t.Errorf("document in %s, its data_stream says %s", out.index[i], want)
		}
		perNS[ns]++
	}
	if len(perNS) != 3 || perNS["alpha"] == 0 || perNS["alpha"] != perNS["beta"] || perNS["beta"] != perNS["prod"] {
		t.Errorf("documents per namespace: %v", perNS)
	}
}
