package tracker

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

func openJ(t *testing.T, dir string, tr *Tracker) (*Journal, []string) {
	t.Helper()
	var warns []string
	j, err := OpenJournal(dir, tr, func(f string, a ...any) { warns = append(warns, fmt.Sprintf(f, a...)) })
	if err != nil {
		t.Fatal(err)
	}
	return j, warns
}

// state lists what a tracker knows, in a fixed order, to compare two.
func state(tr *Tracker) []string {
	var out []string
	tr.mu.Lock()
	defer tr.mu.Unlock()
	_ = tr.procs.each(func(s int32) error {
		e := tr.procs.val(s)
		out = append(out, fmt.Sprintf("live %s %s %d %v %v", tr.procs.key(s).host, e.EntityID, e.PID, e.Ancestry, e.Start.UnixNano()))
		return nil
	})
	_ = tr.grace.each(func(h string, e *Entry) error {
		out = append(out, fmt.Sprintf("ended %s %s %v", h, e.EntityID, e.End.UnixNano()))
		return nil
	})
	_ = tr.sids.byName.each(func(s int32) error {
		out = append(out, fmt.Sprintf("sid %v %s", tr.sids.byName.key(s), *tr.sids.byName.val(s)))
		return nil
	})
	return out
}

// work starts a tree of processes, ends some and learns SIDs.
func work(tr *Tracker, from, n int) {
	for i := from; i < from+n; i++ {
		parent := ""
		if i > 0 {
			parent = fmt.Sprintf("{p-%d}", i/2)
		}
		tr.Start("h", proc(fmt.Sprintf("{p-%d}", i), uint32(1000+i), parent, t0.Add(time.Duration(i)*time.Millisecond)))
		if i%3 == 0 {
			tr.End("h", fmt.Sprintf("{p-%d}", i/3), t0.Add(time.Hour))
		}
		if i%7 == 0 {
			tr.Learn("h", "CORP", fmt.Sprintf("user%d", i), fmt.Sprintf("0x%x", 1000+i), fmt.Sprintf("S-1-5-21-1-2-3-%d", i))
		}
	}
}

// The state restored from snapshot and journal is the state at the last
// Flush (below the cap: which processes an LRU evicts depends on lookups,
// which are not journaled), across several flushes and compactions, and a journal holds only
// the changes: a checkpoint with a few changes writes a few lines, not
// the table.
func TestJournalRestoresState(t *testing.T) {
	dir := t.TempDir()
	tr := New(Options{MaxProcesses: 20000, Grace: 64})
	j, _ := openJ(t, dir, tr)
	j.minCompact = 64 << 10
	for round := range 20 {
		work(tr, round*500, 500)
		if err := j.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if j.gen == 0 {
		t.Errorf("never compacted")
	}
	before := j.size
	tr.Start("h", proc("{one-more}", 7, "{p-9000}", t0.Add(2*time.Hour)))
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	if grew := j.size - before; grew <= 0 || grew > 2000 {
		t.Errorf("one start grew the journal by %d bytes", grew)
	}
	want := state(tr)
	// Changes after the last Flush are not expected to survive.
	work(tr, 20000, 10)
	if err := j.f.Close(); err != nil { // a crash: no Close, no Flush
		t.Fatal(err)
	}

	tr2 := New(Options{MaxProcesses: 20000, Grace: 64})
	j2, warns := openJ(t, dir, tr2)
	defer j2.Close()
	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	got := state(tr2)
	if !reflect.DeepEqual(sortedCopy(got), sortedCopy(want)) {
		t.Fatalf("restored state differs: %d items, want %d\nfirst got:  %.300q\nfirst want: %.300q", len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
	}
	// Ancestry strings are shared with the ancestors' ids again.
	e, ok := tr2.Lookup("h", "{one-more}")
	p, ok2 := tr2.Lookup("h", "{p-9000}")
	if !ok || !ok2 || len(e.Ancestry) == 0 || unsafeData(e.Ancestry[0]) != unsafeData(p.EntityID) {
		t.Errorf("ancestry not shared after load: %v %v", ok, ok2)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for k := i + 1; k < len(c); k++ {
			if c[k] < c[i] {
				c[i], c[k] = c[k], c[i]
			}
		}
	}
	return c
}

// A torn append (crash while writing) is cut off with a warning; the lines
// before it are kept.
func TestJournalTornTail(t *testing.T) {
	dir := t.TempDir()
	tr := New(Options{})
	j, _ := openJ(t, dir, tr)
	work(tr, 0, 50)
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	want := state(tr)
	j.Close()
	f, err := os.OpenFile(filepath.Join(dir, journalFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"t":"p","h":"h","e":{"entity_id":"{torn`)
	f.Close()
	tr2 := New(Options{})
	j2, warns := openJ(t, dir, tr2)
	if len(warns) != 1 || !strings.Contains(warns[0], "torn end") {
		t.Errorf("warnings %q", warns)
	}
	if got := state(tr2); !reflect.DeepEqual(sortedCopy(got), sortedCopy(want)) {
		t.Errorf("state after a torn tail differs")
	}
	tr2.Start("h", proc("{after}", 1, "", t0))
	if err := j2.Flush(); err != nil {
		t.Fatal(err)
	}
	j2.Close()
	tr3 := New(Options{})
	j3, warns := openJ(t, dir, tr3)
	defer j3.Close()
	if _, ok := tr3.Lookup("h", "{after}"); !ok || len(warns) > 0 {
		t.Errorf("line appended after the cut lost (%v), warnings %q", ok, warns)
	}
}

// A journal older than the snapshot (a crash between writing a snapshot
// and emptying the journal) is not replayed over it.
func TestJournalOlderThanSnapshotIgnored(t *testing.T) {
	dir := t.TempDir()
	tr := New(Options{})
	j, _ := openJ(t, dir, tr)
	tr.Start("h", proc("{a}", 1, "", t0))
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(filepath.Join(dir, journalFile))
	if err != nil {
		t.Fatal(err)
	}
	tr.End("h", "{a}", t0.Add(time.Minute))
	j.mu.Lock()
	if err := j.compact(); err != nil {
		t.Fatal(err)
	}
	j.mu.Unlock()
	j.Close()
	// Back to the journal of the previous generation, which starts {a}.
	if err := os.WriteFile(filepath.Join(dir, journalFile), old, 0o600); err != nil {
		t.Fatal(err)
	}
	tr2 := New(Options{})
	j2, _ := openJ(t, dir, tr2)
	defer j2.Close()
	e, ok := tr2.Lookup("h", "{a}")
	if !ok || e.End.IsZero() {
		t.Errorf("{a}: %v, ended %v; the stale journal was replayed over the snapshot", ok, !e.End.IsZero())
	}
}

// An unreadable snapshot starts empty, with a warning, and is replaced.
func TestJournalUnreadableSnapshot(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, snapshotFile), []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := New(Options{})
	j, warns := openJ(t, dir, tr)
	if len(warns) != 1 || tr.Len() != 0 {
		t.Fatalf("warnings %q, %d processes", warns, tr.Len())
	}
	tr.Start("h", proc("{a}", 1, "", t0))
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	tr2 := New(Options{})
	j2, warns := openJ(t, dir, tr2)
	defer j2.Close()
	if _, ok := tr2.Lookup("h", "{a}"); !ok || len(warns) != 0 {
		t.Errorf("after recovery: found %v, warnings %q", ok, warns)
	}
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }

// Within one checkpoint interval, a process that ends and starts again
// (records replayed) is live after a restart; one that starts and ends is
// ended.
func TestJournalOrderWithinInterval(t *testing.T) {
	dir := t.TempDir()
	tr := New(Options{})
	j, _ := openJ(t, dir, tr)
	tr.Start("h", proc("{again}", 1, "", t0))
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	tr.End("h", "{again}", t0.Add(time.Minute))
	tr.Start("h", proc("{again}", 1, "", t0))
	tr.Start("h", proc("{brief}", 2, "", t0))
	tr.End("h", "{brief}", t0.Add(time.Minute))
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	tr2 := New(Options{})
	j2, _ := openJ(t, dir, tr2)
	defer j2.Close()
	if e, ok := tr2.Lookup("h", "{again}"); !ok || !e.End.IsZero() {
		t.Errorf("{again}: found %v, ended %v; want live", ok, !e.End.IsZero())
	}
	if e, ok := tr2.Lookup("h", "{brief}"); !ok || e.End.IsZero() {
		t.Errorf("{brief}: found %v, ended %v; want ended", ok, !e.End.IsZero())
	}
}
