package registry_test

import (
	"path/filepath"
	"testing"

	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

func offsetOf(t *testing.T, r *registry.Registry, src string) uint64 {
	t.Helper()
	p, ok := r.Position(src)
	if !ok {
		return 0
	}
	return p.Offset
}

// Two events of two sources merged into one document pass their
// checkpoints together: the one whose source could advance waits while
// the twin's source is held before the twin by another event.
func TestLinkedEventsPassTogether(t *testing.T) {
	r, err := registry.Open(filepath.Join(t.TempDir(), "registry"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a1 := r.Begin(pos("a", 1))
	a2 := r.Begin(pos("a", 2))
	b1 := r.Begin(pos("b", 1)) // held, waiting for its own twin
	b2 := r.Begin(pos("b", 2))
	a3 := r.Begin(pos("a", 3))
	r.Link(a2, b2)
	r.Done([]pipeline.Ticket{a1, a2, b2, a3})
	if got := offsetOf(t, r, "a"); got != 1 {
		t.Fatalf("a at %d: passed a2 while its twin b2 is behind unacknowledged b1", got)
	}
	if got := offsetOf(t, r, "b"); got != 0 {
		t.Fatalf("b at %d before b1 is acknowledged", got)
	}
	r.Done([]pipeline.Ticket{b1})
	if a, b := offsetOf(t, r, "a"), offsetOf(t, r, "b"); a != 3 || b != 2 {
		t.Fatalf("after b1: a at %d, b at %d, want 3 and 2", a, b)
	}
}

// Links that wait on each other crosswise (a1 with b2, b1 with a2) all
// pass once all four are acknowledged, and not before.
func TestCrosswiseLinksSettle(t *testing.T) {
	r, err := registry.Open(filepath.Join(t.TempDir(), "registry"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a1, a2 := r.Begin(pos("a", 1)), r.Begin(pos("a", 2))
	b1, b2 := r.Begin(pos("b", 1)), r.Begin(pos("b", 2))
	r.Link(a1, b2)
	r.Link(b1, a2)
	r.Done([]pipeline.Ticket{a1, b2, b1})
	if a, b := offsetOf(t, r, "a"), offsetOf(t, r, "b"); a != 0 || b != 0 {
		t.Fatalf("a at %d, b at %d with a2 unacknowledged, want both unmoved", a, b)
	}
	r.Done([]pipeline.Ticket{a2})
	if a, b := offsetOf(t, r, "a"), offsetOf(t, r, "b"); a != 2 || b != 2 {
		t.Fatalf("a at %d, b at %d, want 2 and 2", a, b)
	}
	// Unlinked events afterwards take the plain path again.
	a3 := r.Begin(pos("a", 3))
	r.Done([]pipeline.Ticket{a3})
	if got := offsetOf(t, r, "a"); got != 3 {
		t.Fatalf("a at %d, want 3", got)
	}
}

// Pending counts a source's events until its checkpoint passes them: an
// acknowledged event behind an unacknowledged one, and one acknowledged
// but linked to a twin not yet passed, are pending still.
func TestPending(t *testing.T) {
	r, err := registry.Open(filepath.Join(t.TempDir(), "registry"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a1 := r.Begin(pipeline.Position{Source: "a", Offset: 1})
	a2 := r.Begin(pipeline.Position{Source: "a", Offset: 2})
	b1 := r.Begin(pipeline.Position{Source: "b", Offset: 1})
	c1 := r.Begin(pipeline.Position{Source: "c", Offset: 1})
	r.Link(a2, c1)
	if n := r.Pending("a", "b", "unknown"); n != 3 {
		t.Fatalf("pending %d, want 3", n)
	}
	r.Done([]pipeline.Ticket{a2, b1})
	if n, m := r.Pending("a"), r.Pending("b"); n != 2 || m != 0 {
		t.Fatalf("pending a %d b %d, want 2 (a2 behind a1) and 0", n, m)
	}
	r.Done([]pipeline.Ticket{a1})
	if n := r.Pending("a"); n != 1 {
		t.Fatalf("pending a %d, want 1 (a2 waits for its twin c1)", n)
	}
	r.Done([]pipeline.Ticket{c1})
	if n := r.Pending("a", "b", "c"); n != 0 {
		t.Fatalf("pending %d, want 0", n)
	}
}
