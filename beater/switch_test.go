package beater

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/pipeline"
)

// stuckOutput takes batches and never finishes them (an unreachable
// cluster) until its context ends.
type stuckOutput struct {
	got    chan struct{}
	closed bool
}

func (o *stuckOutput) Limits() pipeline.Limits {
	return pipeline.Limits{MaxEvents: 4, FlushInterval: 10 * time.Millisecond}
}
func (o *stuckOutput) Publish(ctx context.Context, _ []pipeline.Event) error {
	select {
	case o.got <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}
func (o *stuckOutput) Close() error { o.closed = true; return nil }

type storeOutput struct {
	mu  sync.Mutex
	ids map[string]int
}

func (o *storeOutput) Limits() pipeline.Limits { return pipeline.Limits{} }
func (o *storeOutput) Publish(_ context.Context, evs []pipeline.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range evs {
		o.ids[e.ID]++
	}
	return nil
}
func (o *storeOutput) Close() error { return nil }

// Replacing the output re-sends the batches the old one had not finished
// to the new one, and each event is acknowledged once.
func TestSwitchOutputResendsUnacknowledged(t *testing.T) {
	stuck := &stuckOutput{got: make(chan struct{}, 1)}
	sw := newSwitchOutput(stuck)
	p := pipeline.New(context.Background(), sw, discardCheckpoints{}, pipeline.Options{})
	c := p.Client("src")
	const n = 10
	for i := range n {
		if err := c.Publish(context.Background(), pipeline.Event{ID: fmt.Sprint(i), Body: []byte("{}"), Pos: pipeline.Position{Offset: uint64(i + 1)}}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-stuck.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no batch reached the first output")
	}
	store := &storeOutput{ids: map[string]int{}}
	if err := sw.Replace(store); err != nil {
		t.Fatal(err)
	}
	if !stuck.closed {
		t.Error("the replaced output was not closed")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if p.Pending() != 0 {
		t.Fatalf("%d events unacknowledged", p.Pending())
	}
	for i := range n {
		if got := store.ids[fmt.Sprint(i)]; got != 1 {
			t.Errorf("event %d delivered %d times to the new output", i, got)
		}
	}
}
