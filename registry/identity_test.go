package registry_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

// checkpoint gives source an acknowledged position at off.
func checkpoint(r *registry.Registry, source string, off uint64) {
	r.Done([]pipeline.Ticket{r.Begin(pos(source, off))})
}

// TestIdentityPersisted: a file's identity is written with its position
// and read back; a source that has an identity but no position yet is
// not written, and gets its identity in the file once it has one.
func TestIdentityPersisted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry")
	r, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkpoint(r, "file:/a", 10)
	r.SetIdentity("file:/a", "1-100")
	r.SetIdentity("file:/b", "1-200") // read, nothing acknowledged yet
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	raw := string(mustRead(t, path))
	if !strings.Contains(raw, `"identities":{"file:/a":"1-100"}`) {
		t.Errorf("written: %s", raw)
	}
	checkpoint(r, "file:/b", 7)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	again, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := again.Identity("file:/a"), again.Identity("file:/b"); a != "1-100" || b != "1-200" {
		t.Errorf("identities read back: %q %q", a, b)
	}
	got := again.Identified()
	if len(got) != 2 || len(got["1-100"]) != 1 || got["1-100"][0].Offset != 10 || got["1-200"][0].Source != "file:/b" {
		t.Errorf("Identified() = %+v", got)
	}
}

// TestIdentityMigration: a registry written before identities were kept
// loads with its positions and no identity; SetIdentity binds one, and the
// next write keeps it.
func TestIdentityMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry")
	old, err := registry.Encode(registry.State{Positions: []pipeline.Position{
		{Source: "file:/w/a.evtx", Offset: 34359776248, Check: 14420051153507965303},
		{Source: "file:/w/a.ndjson", Offset: 584, Check: 77},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(old), "identities") {
		t.Fatalf("a state without identities writes them: %s", old)
	}
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := r.Position("file:/w/a.evtx"); !ok || p.Offset != 34359776248 || r.Identity("file:/w/a.evtx") != "" {
		t.Fatalf("old entry: %+v %v identity %q", p, ok, r.Identity("file:/w/a.evtx"))
	}
	if len(r.Identified()) != 0 {
		t.Errorf("identified before any binding: %v", r.Identified())
	}
	r.SetIdentity("file:/w/a.evtx", "2049-77")
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	again, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Identity("file:/w/a.evtx") != "2049-77" || again.Identity("file:/w/a.ndjson") != "" {
		t.Errorf("after binding: %q %q", again.Identity("file:/w/a.evtx"), again.Identity("file:/w/a.ndjson"))
	}
	if p, _ := again.Position("file:/w/a.evtx"); p.Check != 14420051153507965303 {
		t.Errorf("position changed by the binding: %+v", p)
	}
}

// TestAdopt: moves are made all at once (a rotation chain and a swap), a
// source no move's To loses its position, a To's old position is
// replaced, and a move whose sources have events in flight is not made.
func TestAdopt(t *testing.T) {
	r, err := registry.Open(filepath.Join(t.TempDir(), "registry"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for src, off := range map[string]uint64{"a": 1, "a-1": 2, "x": 3, "y": 4, "busy": 5, "z": 6} {
		checkpoint(r, src, off)
		r.SetIdentity(src, "id-"+src)
	}
	r.Begin(pos("busy", 50)) // in flight
	moves := []registry.Move{
		{From: "a-1", To: "a-2"}, {From: "a", To: "a-1"}, // rotation
		{From: "x", To: "y"}, {From: "y", To: "x"}, // swap
		{From: "busy", To: "busy-1"}, {From: "z", To: "busy"},
		{From: "none", To: "q"},
	}
	made := r.Adopt(moves)
	if want := moves[:4]; !slices.Equal(made, want) {
		t.Errorf("made %v, want %v", made, want)
	}
	for src, want := range map[string]uint64{"a-2": 2, "a-1": 1, "x": 4, "y": 3, "busy": 5, "z": 6} {
		p, ok := r.Position(src)
		if !ok || p.Offset != want || p.Source != src {
			t.Errorf("%s: %+v %v, want offset %d", src, p, ok, want)
		}
		ident := map[string]string{"a-2": "id-a-1", "a-1": "id-a", "x": "id-y", "y": "id-x", "busy": "id-busy", "z": "id-z"}[src]
		if got := r.Identity(src); got != ident {
			t.Errorf("%s: identity %q, want %q", src, got, ident)
		}
	}
	if _, ok := r.Position("a"); ok {
		t.Error("a, renamed a-1, kept a position")
	}
	if _, ok := r.Position("busy-1"); ok {
		t.Error("a source in flight was moved")
	}
}

// TestReadWrittenOnceAcknowledged: what a file was when read to its end
// is written only once every event of it begun before is acknowledged (a
// restart that skipped the file otherwise would lose them), also for a
// file that gave no event; it goes with its position when the file is
// renamed, and is forgotten with it.
func TestReadWrittenOnceAcknowledged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry")
	r, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inFlight := r.Begin(pos("file:/a", 10))
	r.SetRead("file:/a", "100/1/1-7")
	r.SetRead("file:/empty", "0/1/1-8") // nothing in it to send
	reads := func() map[string]string {
		t.Helper()
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		again, err := registry.Open(path, registry.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return again.Reads()
	}
	if got := reads(); len(got) != 1 || got["file:/empty"] != "0/1/1-8" {
		t.Errorf("with an event in flight: %v, want only the file without events", got)
	}
	r.Done([]pipeline.Ticket{inFlight})
	if got := reads(); len(got) != 2 || got["file:/a"] != "100/1/1-7" {
		t.Errorf("acknowledged: %v", got)
	}
	if made := r.Adopt([]registry.Move{{From: "file:/empty", To: "file:/renamed"}}); len(made) != 1 {
		t.Fatalf("a file without events not moved: %v", made)
	}
	r.Forget(func(s string) bool { return s == "file:/a" })
	if got := reads(); len(got) != 1 || got["file:/renamed"] != "0/1/1-8" {
		t.Errorf("renamed and forgotten: %v", got)
	}
}
