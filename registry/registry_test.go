package registry_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

func pos(src string, off uint64) pipeline.Position {
	return pipeline.Position{Source: src, Offset: off, Bookmark: "bm-" + src}
}

// Out-of-order acknowledgements advance a source only to its highest
// contiguously acknowledged event, and sources are independent.
func TestWindowAdvancesContiguously(t *testing.T) {
	r, err := registry.Open(filepath.Join(t.TempDir(), "registry"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var a, b []pipeline.Ticket
	for off := uint64(10); off < 20; off++ {
		a = append(a, r.Begin(pipeline.Position{Source: "a", Offset: off, Bookmark: "a" + string(rune('0'+off-10))}))
		b = append(b, r.Begin(pos("b", off*100)))
	}
	if _, ok := r.Position("a"); ok {
		t.Fatal("position before any ack")
	}
	r.Done([]pipeline.Ticket{a[1], a[2], a[5], b[0]})
	if _, ok := r.Position("a"); ok {
		t.Fatal("a advanced over unacknowledged offset 10")
	}
	if p, _ := r.Position("b"); p.Offset != 1000 {
		t.Fatalf("b = %+v, want 1000", p)
	}
	r.Done([]pipeline.Ticket{a[0]})
	if p, _ := r.Position("a"); p.Offset != 12 || p.Bookmark != "a2" || p.Source != "a" {
		t.Fatalf("a = %+v, want offset 12 bookmark a2", p)
	}
	r.Done([]pipeline.Ticket{a[4], a[3]})
	if p, _ := r.Position("a"); p.Offset != 15 {
		t.Fatalf("a = %+v, want 15", p)
	}
	r.Done(a[6:])
	r.Done(a[6:]) // a repeated ack is harmless
	if p, _ := r.Position("a"); p.Offset != 19 {
		t.Fatalf("a = %+v, want 19", p)
	}
}

// A long run through the window, acknowledged in scrambled batches, ends at
// the last offset and never passes an unacknowledged one on the way.
func TestWindowLongScrambled(t *testing.T) {
	r, _ := registry.Open(filepath.Join(t.TempDir(), "registry"), registry.Options{})
	const n = 20000
	acked := make([]bool, n+1)
	var pending []pipeline.Ticket
	offs := map[uint64]uint64{}
	for off := uint64(1); off <= n; off++ {
		tk := r.Begin(pos("s", off))
		offs[tk.Seq] = off
		pending = append(pending, tk)
		if len(pending) == 97 || off == n {
			// Ack in reverse, half now, half later.
			for i := len(pending) - 1; i >= len(pending)/2; i-- {
				r.Done(pending[i : i+1])
				acked[offs[pending[i].Seq]] = true
			}
			r.Done(pending[:len(pending)/2])
			for _, t := range pending[:len(pending)/2] {
				acked[offs[t.Seq]] = true
			}
			pending = pending[:0]
		}
		if p, ok := r.Position("s"); ok {
			for o := uint64(1); o <= p.Offset; o++ {
				if !acked[o] {
					t.Fatalf("checkpoint %d passes unacknowledged %d", p.Offset, o)
				}
			}
		}
	}
	if p, _ := r.Position("s"); p.Offset != n {
		t.Fatalf("end at %d, want %d", p.Offset, n)
	}
}

func TestPersistRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "registry")
	r, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil { // nothing to write yet
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty registry written: %v", err)
	}
	r.Done([]pipeline.Ticket{r.Begin(pos("x", 7)), r.Begin(pos("y", 3))})
	extra := []byte(`{"tracker":[1,2,3]}`)
	r.SetExtra(extra)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("registry mode %v readable by others", fi.Mode())
	}
	r2, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := r2.Positions()
	if len(got) != 2 || got[0] != pos("x", 7) || got[1] != pos("y", 3) {
		t.Fatalf("positions %+v", got)
	}
	if !bytes.Equal(r2.Extra(), extra) {
		t.Fatalf("extra %q", r2.Extra())
	}
	// Resuming: new events continue after the loaded checkpoint.
	r2.Done([]pipeline.Ticket{r2.Begin(pos("x", 8))})
	if p, _ := r2.Position("x"); p.Offset != 8 {
		t.Fatalf("x = %+v", p)
	}
	// Positions are opaque: a source that started again lower (its file
	// was replaced) is checkpointed where it is, check included.
	r2.Done([]pipeline.Ticket{r2.Begin(pipeline.Position{Source: "x", Offset: 2, Check: 99})})
	if p, _ := r2.Position("x"); p.Offset != 2 || p.Check != 99 {
		t.Fatalf("x = %+v", p)
	}
	if err := r2.Flush(); err != nil {
		t.Fatal(err)
	}
	r3, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := r3.Position("x"); p.Offset != 2 || p.Check != 99 {
		t.Fatalf("x after reload = %+v", p)
	}
}

// A version 1 registry (positions by record id or record count) loads with
// its positions dropped, so every source is read again rather than skipped
// on a number that is not a position, and says so; its extra state stays.
func TestVersion1PositionsDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry")
	valid := writeValid(t, path)
	payload := valid[bytes.IndexByte(valid, '\n')+1:]
	sum := sha256.Sum256(payload)
	old := fmt.Appendf(nil, "procbeat-registry 1 sha256:%x %d\n%s", sum, len(payload), payload)
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	var log captureLog
	r, err := registry.Open(path, registry.Options{Logger: &log})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Positions(); len(got) != 0 {
		t.Fatalf("version 1 positions kept: %+v", got)
	}
	if string(r.Extra()) != "tracker" {
		t.Fatalf("extra %q", r.Extra())
	}
	if !strings.Contains(log.String(), "1 positions are dropped") {
		t.Fatalf("no warning: %q", log.String())
	}
}

type captureLog struct {
	strings.Builder
}

func (c *captureLog) Debugf(f string, a ...any) {}
func (c *captureLog) Infof(f string, a ...any)  { fmt.Fprintf(c, f+"\n", a...) }
func (c *captureLog) Warnf(f string, a ...any)  { fmt.Fprintf(c, f+"\n", a...) }
func (c *captureLog) Errorf(f string, a ...any) { fmt.Fprintf(c, f+"\n", a...) }

func writeValid(t *testing.T, path string) []byte {
	t.Helper()
	data, err := registry.Encode(registry.State{Positions: []pipeline.Position{pos("a", 5)}, Extra: []byte("tracker")})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

func TestCorruptDetected(t *testing.T) {
	valid, _ := registry.Encode(registry.State{Positions: []pipeline.Position{pos("a", 5)}, Extra: []byte("tracker")})
	nl := bytes.IndexByte(valid, '\n')
	flip := bytes.Clone(valid)
	flip[len(flip)-5] ^= 0x01
	// A checksum that matches a payload that is not JSON.
	notJSON := []byte("{not json")
	sum := sha256.Sum256(notJSON)
	badJSON := fmt.Appendf(nil, "procbeat-registry 1 sha256:%x %d\n%s", sum, len(notJSON), notJSON)
	cases := map[string][]byte{
		"empty":      {},
		"garbage":    []byte("not a registry at all"),
		"truncated":  valid[:len(valid)-3],
		"bit flip":   flip,
		"no payload": valid[:nl+1],
		"old format": []byte(`[{"source":"a","offset":5}]` + "\n"),
		"bad header": append([]byte("procbeat-registry one sha256:00 3\n"), "{}\n"...),
		"bad json":   badJSON,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "registry")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := registry.Open(path, registry.Options{})
			var ce *registry.CorruptError
			if !errors.Is(err, registry.ErrCorrupt) || !errors.As(err, &ce) || ce.Path != path {
				t.Fatalf("Open = %v, want a CorruptError naming %s", err, path)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
				t.Fatal("Open changed the corrupt file")
			}
		})
	}
}

// A duplicate source is rejected even with a correct checksum.
func TestCorruptDuplicateSource(t *testing.T) {
	data, _ := registry.Encode(registry.State{Positions: []pipeline.Position{pos("a", 1), pos("a", 2)}})
	if _, err := registry.Decode(data); !errors.Is(err, registry.ErrCorrupt) {
		t.Fatalf("Decode = %v, want ErrCorrupt", err)
	}
}

func TestNewerVersionIsNotCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry")
	valid := writeValid(t, path)
	newer := bytes.Replace(valid, []byte("procbeat-registry 2 "), []byte("procbeat-registry 3 "), 1)
	if err := os.WriteFile(path, newer, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := registry.OpenOrFresh(path, registry.Options{})
	var ve *registry.VersionError
	if !errors.As(err, &ve) || errors.Is(err, registry.ErrCorrupt) || ve.Version != 3 {
		t.Fatalf("OpenOrFresh = %v, want a VersionError", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("newer registry was moved: %v", err)
	}
}

type recLogger struct{ errs []string }

func (l *recLogger) Debugf(string, ...any)     {}
func (l *recLogger) Infof(string, ...any)      {}
func (l *recLogger) Warnf(string, ...any)      {}
func (l *recLogger) Errorf(f string, a ...any) { l.errs = append(l.errs, f) }
func fixedNow() time.Time                      { return time.Date(2026, 11, 22, 20, 30, 0, 0, time.UTC) }
func contains(list []string, sub string) bool  { return strings.Contains(strings.Join(list, "\n"), sub) }
func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenOrFreshMovesCorruptAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "registry")
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &recLogger{}
	r, err := registry.OpenOrFresh(path, registry.Options{Logger: log, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Positions()) != 0 {
		t.Fatal("fresh registry has positions")
	}
	aside := path + ".corrupt-20261122T203000.000000000Z"
	if got := mustRead(t, aside); string(got) != "garbage" {
		t.Fatalf("moved-aside file holds %q", got)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("corrupt file still in place")
	}
	if len(log.errs) != 1 || !contains(log.errs, "EMPTY registry") {
		t.Fatalf("logged %q, want one loud error", log.errs)
	}
}

// failFS fails renames: a write that cannot complete leaves the previous
// registry intact, reports an error, and is retried by the next Flush.
type failFS struct {
	registry.OS
	fail bool
}

func (f *failFS) Rename(o, n string) error {
	if f.fail {
		return errors.New("injected rename failure")
	}
	return f.OS.Rename(o, n)
}

func TestFailedWriteKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "registry")
	fs := &failFS{}
	r, _ := registry.Open(path, registry.Options{FS: fs})
	r.Done([]pipeline.Ticket{r.Begin(pos("a", 1))})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, path)
	fs.fail = true
	r.Done([]pipeline.Ticket{r.Begin(pos("a", 2))})
	if err := r.Flush(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Flush = %v, want an error naming the registry", err)
	}
	if got := mustRead(t, path); !bytes.Equal(got, before) {
		t.Fatal("failed write changed the registry")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp file left behind: %v", entries)
	}
	fs.fail = false
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	r2, _ := registry.Open(path, registry.Options{})
	if p, _ := r2.Position("a"); p.Offset != 2 {
		t.Fatalf("after retry a = %+v", p)
	}
}

func TestOpenRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "registry")
	writeValid(t, path)
	stale := filepath.Join(dir, "registry.tmp-123")
	other := filepath.Join(dir, "unrelated.tmp-1")
	for _, f := range []string{stale, other} {
		if err := os.WriteFile(f, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := r.Position("a"); p.Offset != 5 || string(r.Extra()) != "tracker" {
		t.Fatalf("loaded %+v %q", p, r.Extra())
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Error("stale temp file kept")
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("unrelated file removed")
	}
}

// Forget drops the positions of the sources it selects, except one with an
// event in flight, and the next Flush writes the registry without them.
func TestForget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry")
	r, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"file:/gone", "archive:/gone.zip:a.evtx", "file:/kept", "file:/busy"} {
		r.Done([]pipeline.Ticket{r.Begin(pos(s, 10))})
	}
	busy := r.Begin(pos("file:/busy", 20)) // not acknowledged
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	n := r.Forget(func(s string) bool { return s != "file:/kept" })
	if n != 2 {
		t.Errorf("forgot %d, want 2 (the busy source keeps its window)", n)
	}
	for s, want := range map[string]bool{"file:/gone": false, "archive:/gone.zip:a.evtx": false, "file:/kept": true, "file:/busy": true} {
		if _, ok := r.Position(s); ok != want {
			t.Errorf("%s: position kept %v, want %v", s, ok, want)
		}
	}
	r.Done([]pipeline.Ticket{busy})
	if p, _ := r.Position("file:/busy"); p.Offset != 20 {
		t.Errorf("busy source after its ack: %+v", p)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	again, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range again.Positions() {
		got = append(got, p.Source)
	}
	if strings.Join(got, ",") != "file:/busy,file:/kept" {
		t.Errorf("written positions %v", got)
	}
}
