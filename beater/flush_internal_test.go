package beater

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/merge"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/winevent"
)

// bodyOutput keeps the bodies it is given, in order.
type bodyOutput struct {
	mu     sync.Mutex
	bodies []string
}

func (o *bodyOutput) Limits() pipeline.Limits { return pipeline.Limits{MaxEvents: 50} }
func (o *bodyOutput) Close() error            { return nil }
func (o *bodyOutput) Publish(_ context.Context, evs []pipeline.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range evs {
		o.bodies = append(o.bodies, string(e.Body))
	}
	return nil
}

// flushHeld holds n Sysmon starts of a host that logs Security too and
// flushes them with procs cores, into a pipeline closed beforehand when
// closed; it returns the bodies published, the documents counted and
// FlushHeld's error.
func flushHeld(t *testing.T, procs, n int, closed bool) ([]string, int64, error) {
	t.Helper()
	prev := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(prev)
	out := &bodyOutput{}
	p := pipeline.New(context.Background(), out, discardCheckpoints{}, pipeline.Options{})
	if closed {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	tr := tracker.New(tracker.Options{})
	r, err := NewRunner(RunnerOptions{Mapper: mapping.New(tr, mapping.Options{}), Tracker: tr, Pipeline: p,
		Codec: "json", Merge: &merge.Options{MaxHeld: 2 * n}})
	if err != nil {
		t.Fatal(err)
	}
	r.merger.Declare("h", winevent.ProviderSysmon)
	r.merger.Declare("h", winevent.ProviderSecurity)
	cl := p.Client("file:held")
	at := time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)
	for i := range n {
		var d document.Document
		d.Event.Provider, d.Event.ID, d.Host.Name = winevent.ProviderSysmon, fmt.Sprint("e", i), "h"
		d.Process.PID = document.LongOf(int64(i))
		d.Process.Executable = `C:\x\` + strings.Repeat("y", i%40) + ".exe"
		it := merge.Item[pipeline.Ticket]{Kind: mapping.Start, Doc: &d, Logged: at, Ack: cl.Reserve(pipeline.Position{Offset: uint64(i + 1)})}
		if err := r.merger.Add(it, func(mapping.Kind, *document.Document, []pipeline.Ticket) error {
			return errors.New("emitted before the flush")
		}); err != nil {
			t.Fatal(err)
		}
	}
	ferr := r.FlushHeld(context.Background())
	if !closed {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.bodies, r.Summary().Docs[mapping.Start.String()], ferr
}

// A flush of many held records on two cores (helpers encode) publishes
// the same bodies in the same order as on one, and counts them; into a
// closed pipeline it fails, counts nothing and leaves no helper behind.
func TestFlushHeldParallel(t *testing.T) {
	const n = parallelFlushMin + 2*flushAhead + 7
	if flushers(n) != 0 && runtime.GOMAXPROCS(0) == 1 {
		t.Fatal("parallel with one core")
	}
	serial, count, err := flushHeld(t, 1, n, false)
	if err != nil || len(serial) != n || count != n {
		t.Fatalf("serial: %v, %d bodies, %d counted, want %d", err, len(serial), count, n)
	}
	prev := runtime.GOMAXPROCS(2)
	if flushers(n) == 0 {
		t.Fatal("serial with two cores")
	}
	runtime.GOMAXPROCS(prev)
	parallel, count, err := flushHeld(t, 2, n, false)
	if err != nil || count != n {
		t.Fatalf("parallel: %v, %d counted, want %d", err, count, n)
	}
	if strings.Join(parallel, "\n") != strings.Join(serial, "\n") {
		t.Fatalf("parallel flush published %d bodies, not those of the serial one in its order", len(parallel))
	}
	for _, procs := range []int{1, 2} {
		goroutines := runtime.NumGoroutine()
		_, count, err := flushHeld(t, procs, n, true)
		if !errors.Is(err, pipeline.ErrClosed) || count != 0 {
			t.Errorf("GOMAXPROCS=%d into a closed pipeline: %v, %d counted; want %v and none", procs, err, count, pipeline.ErrClosed)
		}
		// A helper signals that it is done from its last deferred call,
		// so it may still be returning when FlushHeld does: give it a
		// moment, not forever.
		g := runtime.NumGoroutine()
		for deadline := time.Now().Add(2 * time.Second); g > goroutines && time.Now().Before(deadline); g = runtime.NumGoroutine() {
			time.Sleep(time.Millisecond)
		}
		if g > goroutines {
			t.Errorf("GOMAXPROCS=%d: %d goroutines 2 s after the flush, %d before", procs, g, goroutines)
		}
	}
}
