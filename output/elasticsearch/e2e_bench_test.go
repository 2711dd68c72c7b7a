package elasticsearch_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/output/elasticsearch"
	"github.com/procbeat/procbeat/output/elasticsearch/esfake"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

// BenchmarkEndToEnd publishes through pipeline, registry and output to the
// fake Bulk API (no faults); one op = one document. The fake decompresses
// and JSON-parses every action on the same 2 cores, so this is a floor.
func BenchmarkEndToEnd(b *testing.B) {
	fake := esfake.New(esfake.Faults{})
	defer fake.Close()
	dir := b.TempDir()
	reg, err := registry.Open(filepath.Join(dir, "registry"), registry.Options{})
	if err != nil {
		b.Fatal(err)
	}
	c := &monitoring.Counters{}
	cfg := elasticsearch.DefaultConfig()
	cfg.FlushInterval = 10 * time.Millisecond
	out, err := elasticsearch.New(newClient(b, fake.URL), cfg, c, nil)
	if err != nil {
		b.Fatal(err)
	}
	p := pipeline.New(context.Background(), out, reg, pipeline.Options{Counters: c})
	cl := p.Client("bench")
	events := make([]pipeline.Event, 4096)
	for i := range events {
		events[i] = elasticsearch.BenchDoc(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ev := events[i%len(events)]
		ev.ID = fmt.Sprintf("bench-%d-%d", b.N, i) // distinct per run: no 409s
		ev.Pos.Offset = uint64(i + 1)
		if err := cl.Publish(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(float64(c.BulkBytesSent.Load())/float64(b.N), "wire_B/doc")
	if got := c.EventsAcked.Load(); got != uint64(b.N) {
		b.Fatalf("acked %d of %d", got, b.N)
	}
}

// BenchmarkPipelineNoServer is EndToEnd without the HTTP server: the
// transport reads the gzip body and answers "errors":false, so only
// procbeat's own path (Publish, batching, registry, encoding, gzip,
// response parsing, checkpoints) is measured.
func BenchmarkPipelineNoServer(b *testing.B) {
	dir := b.TempDir()
	reg, err := registry.Open(filepath.Join(dir, "registry"), registry.Options{})
	if err != nil {
		b.Fatal(err)
	}
	c := &monitoring.Counters{}
	cfg := elasticsearch.DefaultConfig()
	cfg.FlushInterval = 10 * time.Millisecond
	out, err := elasticsearch.New(elasticsearch.TransportFunc(func(r *http.Request) (*http.Response, error) {
		_, _ = io.Copy(io.Discard, r.Body)
		return &http.Response{StatusCode: 200, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader(`{"errors":false,"items":[]}`))}, nil
	}), cfg, c, nil)
	if err != nil {
		b.Fatal(err)
	}
	p := pipeline.New(context.Background(), out, reg, pipeline.Options{Counters: c})
	cl := p.Client("bench")
	events := make([]pipeline.Event, 4096)
	for i := range events {
		events[i] = elasticsearch.BenchDoc(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ev := events[i%len(events)]
		ev.Pos.Offset = uint64(i + 1)
		if err := cl.Publish(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	if got := c.EventsAcked.Load(); got != uint64(b.N) {
		b.Fatalf("acked %d of %d", got, b.N)
	}
}
