package console_test

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/procbeat/procbeat/output/console"
	"github.com/procbeat/procbeat/pipeline"
)

// BenchmarkPublish writes batches of the default size, documents of a
// typical size, to the null device (a real file descriptor, so that write
// calls cost what they cost on standard output): bodies of their own
// (copied through the buffer), and bodies one after the other in the
// pipeline's arena with their newlines, as the runner places them
// (written in runs, without a copy).
func BenchmarkPublish(b *testing.B) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	cfg := console.DefaultConfig()
	body := make([]byte, 2100)
	for i := range body {
		body[i] = 'x'
	}
	run := func(b *testing.B, events []pipeline.Event) {
		out := console.New(null, cfg, nil, nil)
		b.SetBytes(int64(len(events) * (len(body) + 1)))
		b.ReportAllocs()
		for b.Loop() {
			if err := out.Publish(context.Background(), events); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
	}
	b.Run("copied", func(b *testing.B) {
		events := make([]pipeline.Event, cfg.BatchSize)
		for i := range events {
			events[i].Body = body
		}
		run(b, events)
	})
	b.Run("arena", func(b *testing.B) {
		p := pipeline.New(context.Background(), console.New(io.Discard, cfg, nil, nil), nopCheckpoints{}, pipeline.Options{})
		defer p.Close()
		a := p.Arena()
		defer a.Close()
		events := make([]pipeline.Event, cfg.BatchSize)
		for i := range events {
			a.SetLine(&events[i], append(append(a.Room(), body...), '\n'))
		}
		run(b, events)
	})
}

// nopCheckpoints serves the pipeline the arena bodies come from.
type nopCheckpoints struct{}

func (nopCheckpoints) Begin(pos pipeline.Position) pipeline.Ticket {
	return pipeline.Ticket{Source: pos.Source}
}
func (nopCheckpoints) Done([]pipeline.Ticket) {}
func (nopCheckpoints) Flush() error           { return nil }
