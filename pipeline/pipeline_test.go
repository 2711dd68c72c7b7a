package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

// gateOutput records batches; each Publish waits for a token on gate (if
// set) or for ctx to end.
type gateOutput struct {
	lim   pipeline.Limits
	gate  chan struct{}
	delay func(first pipeline.Event) time.Duration

	mu      sync.Mutex
	batches [][]string
	firsts  []uint64 // first offset of each batch, in completion order
	closed  bool
}

func (o *gateOutput) Limits() pipeline.Limits { return o.lim }
func (o *gateOutput) Close() error {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	return nil
}

func (o *gateOutput) Publish(ctx context.Context, events []pipeline.Event) error {
	if o.gate != nil {
		select {
		case <-o.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if o.delay != nil {
		select {
		case <-time.After(o.delay(events[0])):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	o.mu.Lock()
	o.batches = append(o.batches, ids)
	o.firsts = append(o.firsts, events[0].Pos.Offset)
	o.mu.Unlock()
	return nil
}

func (o *gateOutput) delivered() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := map[string]int{}
	for _, b := range o.batches {
		for _, id := range b {
			m[id]++
		}
	}
	return m
}

func ev(src string, off uint64, size int) pipeline.Event {
	return pipeline.Event{Index: "i", ID: fmt.Sprintf("%s-%d", src, off), Body: []byte(strings.Repeat("x", size)),
		Pos: pipeline.Position{Offset: off}}
}

func newReg(t *testing.T) *registry.Registry {
	r, err := registry.Open(filepath.Join(t.TempDir(), "registry"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Producers block once the byte budget is used, and resume as batches are
// acknowledged.
func TestBackpressure(t *testing.T) {
	out := &gateOutput{lim: pipeline.Limits{MaxEvents: 4, FlushInterval: time.Millisecond, Workers: 1}, gate: make(chan struct{})}
	c := &monitoring.Counters{}
	p := pipeline.New(context.Background(), out, newReg(t), pipeline.Options{MaxBytesInFlight: 10 * (1000 + 64 + 10), Counters: c})
	cl := p.Client("s")
	published := publishUntilBlocked(t, cl, 1000)
	if published < 8 || published > 10 {
		t.Fatalf("published %d events of 1 KB under a ~10 KB budget before blocking", published)
	}
	if d := c.QueueDepth.Load(); d != int64(published) {
		t.Errorf("queue depth %d, want %d", d, published)
	}
	close(out.gate) // let everything through
	if err := cl.Publish(context.Background(), ev("s", 200, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// The event whose Publish timed out was never queued.
	if n := len(out.delivered()); n != published+1 {
		t.Errorf("delivered %d, want %d", n, published+1)
	}
}

// Batches are cut by count, and partial batches leave after FlushInterval.
func TestBatchingByCountAndInterval(t *testing.T) {
	out := &gateOutput{lim: pipeline.Limits{MaxEvents: 10, FlushInterval: 300 * time.Millisecond, Workers: 1}}
	p := pipeline.New(context.Background(), out, newReg(t), pipeline.Options{})
	cl := p.Client("s")
	for off := uint64(1); off <= 25; off++ {
		if err := cl.Publish(context.Background(), ev("s", off, 10)); err != nil {
			t.Fatal(err)
		}
	}
	published := time.Now()
	for deadline := published.Add(2 * time.Second); len(out.delivered()) < 20 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := len(out.delivered()); n != 20 && time.Since(published) < 250*time.Millisecond {
		t.Fatalf("%d delivered before the interval, want the 2 full batches", n)
	}
	// The 5 left leave by the interval.
	for deadline := time.Now().Add(3 * time.Second); len(out.delivered()) < 25 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	out.mu.Lock()
	sizes := []int{}
	for _, b := range out.batches {
		sizes = append(sizes, len(b))
	}
	out.mu.Unlock()
	if fmt.Sprint(sizes) != "[10 10 5]" {
		t.Fatalf("batch sizes %v, want [10 10 5]", sizes)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if !out.closed {
		t.Error("output not closed")
	}
}

// With concurrent workers, batches finish out of order; the registry still
// moves only over contiguous acknowledged events, and ends at the last.
func TestOutOfOrderAcks(t *testing.T) {
	out := &gateOutput{
		lim: pipeline.Limits{MaxEvents: 5, FlushInterval: time.Millisecond, Workers: 4},
		// Every other batch is slow, so later ones overtake it.
		delay: func(first pipeline.Event) time.Duration {
			if first.Pos.Offset%10 == 1 {
				return 30 * time.Millisecond
			}
			return 0
		},
	}
	reg := newReg(t)
	p := pipeline.New(context.Background(), out, reg, pipeline.Options{CheckpointEveryBatch: true})
	cl := p.Client("s")
	stop := make(chan struct{})
	violations := make(chan string, 1)
	go func() { // watch the checkpoint while batches complete
		for {
			select {
			case <-stop:
				return
			default:
			}
			if pos, ok := reg.Position("s"); ok {
				got := out.delivered()
				for off := uint64(1); off <= pos.Offset; off++ {
					if got[fmt.Sprintf("s-%d", off)] == 0 {
						select {
						case violations <- fmt.Sprintf("checkpoint %d passes undelivered %d", pos.Offset, off):
						default:
						}
						return
					}
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for off := uint64(1); off <= 200; off++ {
		if err := cl.Publish(context.Background(), ev("s", off, 10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	select {
	case v := <-violations:
		t.Fatal(v)
	default:
	}
	if pos, _ := reg.Position("s"); pos.Offset != 200 {
		t.Fatalf("final checkpoint %d, want 200", pos.Offset)
	}
	// Batches really did complete out of order.
	out.mu.Lock()
	defer out.mu.Unlock()
	inOrder := true
	for i := 1; i < len(out.firsts); i++ {
		if out.firsts[i] < out.firsts[i-1] {
			inOrder = false
		}
	}
	if inOrder {
		t.Error("batches completed in order; the test did not exercise reordering")
	}
}

// Close gives up after DrainTimeout when the output cannot deliver, says
// how many events are unacknowledged, and does not move the checkpoint.
func TestCloseTimeout(t *testing.T) {
	out := &gateOutput{lim: pipeline.Limits{MaxEvents: 3, FlushInterval: time.Millisecond}, gate: make(chan struct{})}
	reg := newReg(t)
	p := pipeline.New(context.Background(), out, reg, pipeline.Options{DrainTimeout: 50 * time.Millisecond})
	cl := p.Client("s")
	for off := uint64(1); off <= 5; off++ {
		if err := cl.Publish(context.Background(), ev("s", off, 10)); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	err := p.Close()
	if err == nil || !strings.Contains(err.Error(), "5 events unacknowledged") {
		t.Fatalf("Close = %v, want 5 unacknowledged", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %s", d)
	}
	if _, ok := reg.Position("s"); ok {
		t.Error("checkpoint moved without delivery")
	}
	if err := cl.Publish(context.Background(), ev("s", 6, 1)); !errors.Is(err, pipeline.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
}

// Cancelling the pipeline's context unblocks producers waiting on the
// budget.
func TestAbortUnblocksProducers(t *testing.T) {
	out := &gateOutput{lim: pipeline.Limits{MaxEvents: 1, FlushInterval: time.Millisecond}, gate: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	p := pipeline.New(ctx, out, newReg(t), pipeline.Options{MaxBytesInFlight: 100})
	cl := p.Client("s")
	errc := make(chan error, 1)
	go func() {
		var err error
		for off := uint64(1); err == nil; off++ {
			err = cl.Publish(context.Background(), ev("s", off, 80))
		}
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, pipeline.ErrClosed) {
			t.Fatalf("blocked Publish returned %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("producer still blocked after abort")
	}
	if err := p.Close(); err == nil {
		t.Error("Close after abort reported no unacknowledged events")
	}
}

// While the workers are busy and a full batch waits for them, a producer
// waits before its event goes into a batch: one that gives up (its ctx)
// has published nothing, and the events queued before it are delivered.
func TestFullBatchesHoldProducers(t *testing.T) {
	out := &gateOutput{lim: pipeline.Limits{MaxEvents: 2, FlushInterval: time.Hour, Workers: 1}, gate: make(chan struct{})}
	reg := newReg(t)
	p := pipeline.New(context.Background(), out, reg, pipeline.Options{})
	cl := p.Client("s")
	published := publishUntilBlocked(t, cl, 10)
	// One batch at the worker, one the batcher offers it, one ready and
	// the full one producers append to.
	if published != 8 {
		t.Fatalf("published %d events in batches of 2 before blocking, want 8", published)
	}
	close(out.gate)
	next := uint64(published + 2) // offsets need only increase
	if err := cl.Publish(context.Background(), ev("s", next, 10)); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	got := out.delivered()
	if len(got) != published+1 || got[fmt.Sprintf("s-%d", published+1)] != 0 {
		t.Errorf("delivered %v, want s-1..s-%d and s-%d", got, published, next)
	}
	if pos, _ := reg.Position("s"); pos.Offset != next {
		t.Errorf("checkpoint %d, want %d", pos.Offset, next)
	}
}

// publishUntilBlocked publishes events of size bytes from offset 1 on,
// until one waits for 50 ms, and returns how many were published.
func publishUntilBlocked(t *testing.T, cl *pipeline.Client, size int) int {
	t.Helper()
	published := 0
	for off := uint64(1); off <= 100; off++ {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := cl.Publish(ctx, ev("s", off, size))
		cancel()
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("publish: %v", err)
			}
			break
		}
		published++
	}
	return published
}
