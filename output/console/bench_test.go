package console_test

import (
	"context"
	"os"
	"testing"

	"github.com/procbeat/procbeat/output/console"
	"github.com/procbeat/procbeat/pipeline"
)

// BenchmarkPublish writes batches of the default size, documents of a
// typical size, to the null device (a real file descriptor, so that write
// calls cost what they cost on standard output).
func BenchmarkPublish(b *testing.B) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	cfg := console.DefaultConfig()
	out := console.New(null, cfg, nil, nil)
	events := make([]pipeline.Event, cfg.BatchSize)
	body := make([]byte, 2100)
	for i := range body {
		body[i] = 'x'
	}
	for i := range events {
		events[i].Body = body
	}
	b.SetBytes(int64(len(events) * (len(body) + 1)))
	b.ReportAllocs()
	for b.Loop() {
		if err := out.Publish(context.Background(), events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
}
