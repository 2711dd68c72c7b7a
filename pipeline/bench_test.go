package pipeline_test

import (
	"context"
	"testing"

	"github.com/procbeat/procbeat/internal/cputime"
	"github.com/procbeat/procbeat/pipeline"
)

// nopCheckpoints hands out tickets and forgets them: the benchmark measures
// the pipeline's own hops, not a registry.
type nopCheckpoints struct{ seq uint64 }

func (c *nopCheckpoints) Begin(pos pipeline.Position) pipeline.Ticket {
	c.seq++
	return pipeline.Ticket{Source: pos.Source, Seq: c.seq}
}
func (c *nopCheckpoints) Done([]pipeline.Ticket) {}
func (c *nopCheckpoints) Flush() error           { return nil }

// countOutput accepts every batch at once.
type countOutput struct{ n int }

func (o *countOutput) Limits() pipeline.Limits { return pipeline.Limits{MaxEvents: 2048} }
func (o *countOutput) Close() error            { return nil }
func (o *countOutput) Publish(_ context.Context, events []pipeline.Event) error {
	o.n += len(events)
	return nil
}

// BenchmarkPublish is the cost per event of one producer's Publish through
// batching to an output that does nothing (the console output's settings).
func BenchmarkPublish(b *testing.B) {
	out := &countOutput{}
	p := pipeline.New(context.Background(), out, &nopCheckpoints{}, pipeline.Options{})
	c := p.Client("file:/bench.evtx")
	body := make([]byte, 2000)
	ctx := context.Background()
	b.ReportAllocs()
	var off uint64
	cpu0 := cputime.Process()
	for b.Loop() {
		off++
		ev := pipeline.Event{Index: "logs-endpoint.events.process-default", ID: "abc", Body: body, Pos: pipeline.Position{Offset: off}}
		if err := c.Publish(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
	// CPU time (of the producer, the batcher and the output's worker)
	// per event: steadier than ns/op on a shared machine.
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(off), "cpu-ns/event")
	if out.n != int(off) {
		b.Fatalf("%d events delivered, want %d", out.n, off)
	}
}
