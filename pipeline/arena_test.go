package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/pipeline"
)

// checkOutput verifies every body against what its producer wrote (body
// n is size(n) bytes of one letter), on arrival and again after a pause,
// so that a chunk recycled while its events are in flight shows.
type checkOutput struct {
	lim   pipeline.Limits
	pause time.Duration

	mu   sync.Mutex
	seen int
	bad  []string
}

func arenaSize(n int) int {
	switch {
	case n%997 == 0:
		return 300 << 10 // larger than a chunk
	case n%101 == 0:
		return 20 << 10 // larger than the room a body starts in
	}
	return 1500 + n%3000
}

func arenaBody(dst []byte, n int) []byte {
	c := byte('a' + n%26)
	for range arenaSize(n) {
		dst = append(dst, c)
	}
	return dst
}

func (o *checkOutput) Limits() pipeline.Limits { return o.lim }
func (o *checkOutput) Close() error            { return nil }
func (o *checkOutput) Publish(ctx context.Context, events []pipeline.Event) error {
	check := func() {
		for _, e := range events {
			n, _ := strconv.Atoi(e.ID)
			want := arenaSize(n)
			if len(e.Body) != want || bytes.Count(e.Body, []byte{byte('a' + n%26)}) != want {
				o.mu.Lock()
				o.bad = append(o.bad, fmt.Sprintf("event %d: body of %d bytes, %.20q...", n, len(e.Body), e.Body))
				o.mu.Unlock()
			}
		}
	}
	check()
	time.Sleep(o.pause)
	check()
	o.mu.Lock()
	o.seen += len(events)
	o.mu.Unlock()
	return nil
}

// Bodies written to an arena stay intact until the output returns, with
// several workers finishing batches out of order, bodies larger than
// their room and than a chunk; and the chunks are reused, so that the
// bodies cost the producer no allocation once the pipeline runs.
func TestArenaBodies(t *testing.T) {
	out := &checkOutput{lim: pipeline.Limits{MaxEvents: 50, Workers: 3, FlushInterval: time.Millisecond}, pause: time.Millisecond}
	p := pipeline.New(context.Background(), out, &nopCheckpoints{}, pipeline.Options{MaxBytesInFlight: 1 << 20})
	c := p.Client("file:/arena")
	a := p.Arena()
	ctx := context.Background()
	const total = 20000
	var written uint64
	publish := func(n int) {
		ev := pipeline.Event{Index: "i", ID: strconv.Itoa(n), Pos: pipeline.Position{Offset: uint64(n + 1)}}
		a.Set(&ev, arenaBody(a.Room(), n))
		written += uint64(len(ev.Body))
		if err := c.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	for n := range total / 2 {
		publish(n)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	written = 0
	for n := total / 2; n < total; n++ {
		publish(n)
	}
	runtime.ReadMemStats(&after)
	a.Close()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if out.seen != total {
		t.Errorf("%d events delivered, want %d", out.seen, total)
	}
	for i, b := range out.bad {
		if i == 10 {
			t.Errorf("... %d bad bodies in all", len(out.bad))
			break
		}
		t.Error(b)
	}
	// The bodies over a chunk's room are allocated, growing (about 5 MB
	// of them here, allocated up to twice over as append grows them);
	// everything else comes back from the free list.
	var large uint64
	for n := total / 2; n < total; n++ {
		if s := arenaSize(n); s >= 16<<10 {
			large += uint64(s)
		}
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 3*large+written/10 {
		t.Errorf("publishing %d bytes of bodies allocated %d bytes (%d of them for large bodies): chunks not reused", written, got, large)
	}
}

// An event that is not delivered (the pipeline closed under its producer)
// gives its body back without disturbing the others.
func TestArenaAfterClose(t *testing.T) {
	out := &checkOutput{lim: pipeline.Limits{MaxEvents: 10, FlushInterval: time.Millisecond}}
	p := pipeline.New(context.Background(), out, &nopCheckpoints{}, pipeline.Options{})
	c := p.Client("file:/arena")
	a := p.Arena()
	for n := range 100 {
		ev := pipeline.Event{Index: "i", ID: strconv.Itoa(n), Pos: pipeline.Position{Offset: uint64(n + 1)}}
		a.Set(&ev, arenaBody(a.Room(), n))
		if err := c.Publish(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	ev := pipeline.Event{Index: "i", ID: "100"}
	a.Set(&ev, arenaBody(a.Room(), 100))
	if err := c.Publish(context.Background(), ev); err == nil {
		t.Fatal("publish after close succeeded")
	}
	a.Close()
	if out.seen != 100 || len(out.bad) > 0 {
		t.Fatalf("%d delivered, bad: %v", out.seen, out.bad)
	}
}

// writeLog records each write.
type writeLog struct {
	buf    bytes.Buffer
	writes int
}

func (w *writeLog) Write(b []byte) (int, error) {
	w.writes++
	return w.buf.Write(b)
}

// WriteLines writes every body and its newline: bodies placed with
// SetLine one after the other in one write, the others (Set, outside the
// arena, larger than their room) one by one.
func TestWriteLines(t *testing.T) {
	p := pipeline.New(context.Background(), &countOutput{}, &nopCheckpoints{}, pipeline.Options{})
	defer p.Close()
	a := p.Arena()
	defer a.Close()
	var events []pipeline.Event
	var want bytes.Buffer
	add := func(body string, how string) {
		var ev pipeline.Event
		switch how {
		case "line":
			a.SetLine(&ev, append(append(a.Room(), body...), '\n'))
		case "set":
			a.Set(&ev, append(a.Room(), body...))
		default:
			ev.Body = []byte(body)
		}
		if string(ev.Body) != body {
			t.Fatalf("%s body %.20q, want %.20q", how, ev.Body, body)
		}
		events = append(events, ev)
		want.WriteString(body + "\n")
	}
	add(`{"a":1}`, "line")
	add(`{"b":2}`, "line")
	add(`{"c":3}`, "line")
	add(`{"d":4}`, "set")
	add(`{"e":5}`, "line")
	add(`{"f":6}`, "plain")
	add(`{"g":7}`, "line")
	add(`{"h":"`+strings.Repeat("x", 300<<10)+`"}`, "line") // outgrows its chunk
	add(`{"i":9}`, "line")
	add(`{"j":10}`, "line")
	var w writeLog
	if err := pipeline.WriteLines(&w, events); err != nil {
		t.Fatal(err)
	}
	if w.buf.String() != want.String() {
		t.Fatalf("wrote %q\nwant  %q", w.buf.String(), want.String())
	}
	// a-c; d and its newline; e; f and its newline; g; h and its
	// newline; i-j.
	if w.writes != 10 {
		t.Errorf("%d writes, want 10", w.writes)
	}
}
