package beater

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/testing/estest"
)

// TestWrappedEVTXExactlyOnceIntoElasticsearch: the wrapped log, interrupted
// at every chunk boundary and resumed, lands in a real Elasticsearch with
// every document once, and no document is sent twice (the second run sends
// exactly what the first did not).
func TestWrappedEVTXExactlyOnceIntoElasticsearch(t *testing.T) {
	path, nchunks := wrappedSysmonEVTX(t, t.TempDir())
	want := len(replayIDs(t, t.TempDir(), path))

	c := estest.Start(t)
	ctx := context.Background()
	for boundary := 1; boundary < nchunks; boundary++ {
		ns := c.Namespace(t)
		cfg := config.Default()
		cfg.Path.Data = t.TempDir()
		cfg.Procbeat.Namespace = ns
		es := config.DefaultElasticsearch()
		es.Hosts = []string{c.URL}
		es.Username, es.Password = c.Username, c.Password
		es.BulkMaxSize, es.FlushInterval = 50, 100*time.Millisecond
		cfg.Output.Elasticsearch = &es
		run := func(interrupt bool) (acked, dup uint64) {
			// A replay waits for delivery as the CLI's does (a new data
			// stream's first requests can be slow on a busy machine).
			b, err := New(ctx, cfg, monitoring.NopLogger{}, Options{Resume: true, DrainTimeout: ReplayDrainTimeout(cfg)})
			if err != nil {
				t.Fatal(err)
			}
			if interrupt {
				src := stopAt{source.NewFile(path, b.runner.opts), func(p source.Position) bool { return int(p.Offset>>32) >= boundary }}
				err = b.runner.Run(ctx, src)
			} else {
				_, err = b.Replay(ctx, []string{path})
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			return b.Counters().EventsAcked.Load(), b.Counters().EventsDuplicate.Load()
		}
		a1, d1 := run(true)
		a2, d2 := run(false)
		stored := countDocs(t, c, "logs-endpoint.events.*-"+ns)
		if stored != want || a1+a2 != uint64(want) || d1+d2 != 0 {
			t.Fatalf("boundary %d: %d documents stored, want %d; sent %d then %d (%d duplicates)", boundary, stored, want, a1, a2, d1+d2)
		}
	}
}

func countDocs(t *testing.T, c *estest.Cluster, target string) int {
	t.Helper()
	cl := c.Client
	if _, err := cl.Indices.Refresh(cl.Indices.Refresh.WithIndex(target)); err != nil {
		t.Fatal(err)
	}
	res, err := cl.Count(cl.Count.WithIndex(target))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.IsError() {
		t.Fatalf("count %s: %s", target, res.String())
	}
	var body struct {
		Count int `json:"count"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(fmt.Errorf("count %s: %w", target, err))
	}
	return body.Count
}
