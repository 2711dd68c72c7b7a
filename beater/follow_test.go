package beater

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
	"github.com/procbeat/procbeat/testing/corpus"
)

// sysmonLines are n NDJSON Sysmon process starts of host, record ids from
// first on.
func sysmonLines(host string, first, n int) string {
	var b strings.Builder
	for id := first; id < first+n; id++ {
		fmt.Fprintf(&b, `{"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","computer_name":%q,"event_id":"1","provider_name":"Microsoft-Windows-Sysmon","record_id":%d,"event_data":{"UtcTime":"2024-05-01 08:00:00.%03d","ProcessGuid":"{11111111-2222-3333-4444-%012d}","ProcessId":"%d","Image":"C:\\w\\p.exe"}}}`+"\n", host, id, id%1000, id, id)
	}
	return b.String()
}

// watched is a Beater scanning a folder round after round, as Run does,
// each round's acknowledgements awaited.
type watched struct {
	t   *testing.T
	b   *Beater
	w   *watch
	out *idOutput
	dir string
}

// watchDirs watches dir's evtx and json folders (made if missing), with
// data as path.data.
func watchDirs(t *testing.T, data, dir string, out *idOutput) *watched {
	return watchDirsLog(t, data, dir, out, monitoring.NopLogger{})
}

// watchDirsLog is watchDirs logging to log.
func watchDirsLog(t *testing.T, data, dir string, out *idOutput, log monitoring.Logger) *watched {
	for _, d := range []string{"evtx", "json"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.Path.Data = data
	cfg.Procbeat.MergeSources = false // deliveries are counted (see testBeater)
	b, err := NewWithOutput(context.Background(), cfg, log, out, Options{Resume: true, DrainTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := b.newWatch([]config.Input{
		{Type: "evtx", Enabled: true, Paths: []string{filepath.Join(dir, "evtx")}},
		{Type: "json", Enabled: true, Paths: []string{filepath.Join(dir, "json")}},
	})
	return &watched{t: t, b: b, w: w, out: out, dir: dir}
}

// round scans, and waits for every document to be acknowledged.
func (x *watched) round() {
	x.t.Helper()
	if err := x.b.round(context.Background(), x.w); err != nil {
		x.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for x.b.pipe.Pending() > 0 {
		if time.Now().After(deadline) {
			x.t.Fatal("documents not acknowledged")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (x *watched) path(rel string) string { return filepath.Join(x.dir, filepath.FromSlash(rel)) }

// shipped is how many documents went out, and those that went out more
// than once.
func (x *watched) shipped() (n int, dups []string) {
	for id, c := range x.out.stored() {
		n += c
		if c > 1 {
			dups = append(dups, id)
		}
	}
	return n, dups
}

func writeAt(t *testing.T, path, data string, flag int) {
	t.Helper()
	f, err := os.OpenFile(path, flag|os.O_WRONLY|os.O_CREATE, 0o600)
	if err == nil {
		_, err = f.WriteString(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// TestRunFollowsRenamedFiles: an EVTX file and an NDJSON export, read
// and checkpointed, are renamed in the watched folders (the NDJSON one
// logrotate's way: a new file takes its name): nothing already shipped is
// shipped again, what was written to the renamed files afterwards is, and
// so is the whole new file at the old name; a restart ships nothing.
func TestRunFollowsRenamedFiles(t *testing.T) {
	evtx, err := os.ReadFile(corpus.RequireFile(t, "omerbenamram-evtx/samples/sysmon.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	dir, data := t.TempDir(), t.TempDir()
	out := newIDOutput(-1)
	x := watchDirs(t, data, dir, out)
	// Three chunks of the EVTX file (it is still being copied), twenty
	// lines of the export.
	writeAt(t, x.path("evtx/a.evtx"), string(evtx[:0x1000+3*0x10000]), os.O_TRUNC)
	writeAt(t, x.path("json/a.ndjson"), sysmonLines("ws1", 1, 20), os.O_TRUNC)
	x.round()
	first, dups := x.shipped()
	if first <= 20 || first >= 287+20 || dups != nil {
		t.Fatalf("first round: %d documents (duplicated: %v)", first, dups)
	}

	rename(t, x.path("evtx/a.evtx"), x.path("evtx/renamed.evtx"))
	rename(t, x.path("json/a.ndjson"), x.path("json/a-1.ndjson"))
	writeAt(t, x.path("json/a.ndjson"), sysmonLines("ws2", 1, 5), os.O_TRUNC)
	x.round()
	// Written to after the rename: the rest of the EVTX file (in place,
	// same file), ten more lines of the export.
	writeAt(t, x.path("evtx/renamed.evtx"), string(evtx), os.O_TRUNC)
	writeAt(t, x.path("json/a-1.ndjson"), sysmonLines("ws1", 21, 10), os.O_APPEND)
	x.round()
	x.round()
	n, dups := x.shipped()
	if want := 287 + 30 + 5; n != want || dups != nil {
		t.Errorf("after the renames: %d documents, want %d (%d duplicated, as %v)", n, want, len(dups), dups[:min(len(dups), 3)])
	}
	for rel, want := range map[string]bool{"evtx/a.evtx": false, "evtx/renamed.evtx": true, "json/a.ndjson": true, "json/a-1.ndjson": true} {
		if _, ok := x.b.reg.Position(source.ID(x.path(rel))); ok != want {
			t.Errorf("%s: checkpoint %v, want %v", rel, ok, want)
		}
	}
	if err := x.b.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(data, "registry.json"))
	if err != nil || !strings.Contains(string(raw), `"identities":{`) {
		t.Errorf("registry.json keeps no identity: %v %s", err, raw)
	}

	again := newIDOutput(-1)
	y := watchDirs(t, data, dir, again)
	y.round()
	if err := y.b.Close(); err != nil {
		t.Fatal(err)
	}
	if n, _ := y.shipped(); n != 0 {
		t.Errorf("restart shipped %d documents again", n)
	}
}

// fakeIdentities gives the files named in ids the identities there, the
// others their own.
func fakeIdentities(ids map[string]source.Identity) func(string, fs.FileInfo) (source.Identity, error) {
	return func(path string, st fs.FileInfo) (source.Identity, error) {
		if id, ok := ids[filepath.Base(path)]; ok {
			return id, nil
		}
		return source.IdentityOf(path, st)
	}
}

// TestRunIdentityReused: a file removed and another, with other content,
// given its identity (an inode reused) does not inherit its checkpoint:
// the check of the file's content kept with the position tells them
// apart, and the new file is read from its start, though it is longer
// than the position.
func TestRunIdentityReused(t *testing.T) {
	x := watchDirs(t, t.TempDir(), t.TempDir(), newIDOutput(-1))
	defer x.b.Close()
	reused := source.Identity{Volume: 1, Index: 100}
	x.b.runner.identify = fakeIdentities(map[string]source.Identity{"a.ndjson": reused, "b.ndjson": reused})
	writeAt(t, x.path("json/a.ndjson"), sysmonLines("ws1", 1, 20), os.O_TRUNC)
	x.round()
	if err := os.Remove(x.path("json/a.ndjson")); err != nil {
		t.Fatal(err)
	}
	writeAt(t, x.path("json/b.ndjson"), sysmonLines("ws3", 1, 30), os.O_TRUNC)
	x.round()
	x.round()
	if n, dups := x.shipped(); n != 50 || dups != nil {
		t.Errorf("%d documents, want 50 (duplicated: %v)", n, dups)
	}
	if _, ok := x.b.reg.Position(source.ID(x.path("json/a.ndjson"))); ok {
		t.Error("the removed file kept its checkpoint")
	}
}

// TestRunRenameWaitsForInFlight: a file renamed while events of it are
// in flight is not read under its new name, nor is its checkpoint
// forgotten as that of a file gone, until they are acknowledged; then the
// checkpoint moves and nothing is read again.
func TestRunRenameWaitsForInFlight(t *testing.T) {
	x := watchDirs(t, t.TempDir(), t.TempDir(), newIDOutput(-1))
	defer x.b.Close()
	writeAt(t, x.path("json/a.ndjson"), sysmonLines("ws1", 1, 20), os.O_TRUNC)
	x.round()
	old, renamed := source.ID(x.path("json/a.ndjson")), source.ID(x.path("json/b.ndjson"))
	cp, ok := x.b.reg.Position(old)
	if !ok {
		t.Fatal("no checkpoint")
	}
	inFlight := x.b.reg.Begin(cp) // as an event not yet acknowledged
	rename(t, x.path("json/a.ndjson"), x.path("json/b.ndjson"))
	if err := x.b.round(context.Background(), x.w); err != nil {
		t.Fatal(err)
	}
	if _, ok := x.b.reg.Position(old); !ok || !x.w.waiting[old] || !x.w.waiting[renamed] {
		t.Fatalf("checkpoint of the renamed file with events in flight: %v, waiting %v", ok, x.w.waiting)
	}
	if n, _ := x.shipped(); n != 20 {
		t.Fatalf("%d documents shipped while the rename waits, want the first 20", n)
	}
	x.b.reg.Done([]pipeline.Ticket{inFlight})
	x.round()
	if n, dups := x.shipped(); n != 20 || dups != nil {
		t.Errorf("%d documents, want 20 (duplicated %v)", n, dups)
	}
	if p, ok := x.b.reg.Position(renamed); !ok || p.Offset != cp.Offset {
		t.Errorf("renamed file's checkpoint %+v %v, want %+v", p, ok, cp)
	}
}

// TestRenames plans moves from identities alone.
func TestRenames(t *testing.T) {
	kept := map[string][]pipeline.Position{
		"1-1": {{Source: "file:/w/a", Offset: 10}},
		"1-2": {{Source: "file:/w/h1", Offset: 5}},
		"1-3": {{Source: "file:/w/x", Offset: 3}, {Source: "file:/w/y", Offset: 9}},
		"1-4": {{Source: "file:/w/err", Offset: 1}},
	}
	recorded := map[string]string{"file:/w/a": "1-1", "file:/w/h1": "1-2", "file:/w/x": "1-3", "file:/w/y": "1-3", "file:/w/err": "1-4"}
	now := func(path string) (string, bool, error) {
		switch path {
		case "/w/err":
			return "", false, fs.ErrPermission
		case "/w/x", "/w/y", "/w/a":
			return "", true, nil
		}
		return "9-9", false, nil
	}
	for _, c := range []struct {
		name  string
		found []foundFile
		want  []registry.Move
	}{
		{"renamed", []foundFile{{"file:/w/b", "1-1"}}, []registry.Move{{From: "file:/w/a", To: "file:/w/b"}}},
		{"same place", []foundFile{{"file:/w/a", "1-1"}}, nil},
		{"unknown identity", []foundFile{{"file:/w/b", ""}}, nil},
		{"hard link", []foundFile{{"file:/w/h1", "1-2"}, {"file:/w/h2", "1-2"}}, nil},
		{"old path not readable", []foundFile{{"file:/w/e2", "1-4"}}, nil},
		{"two old names: the furthest", []foundFile{{"file:/w/z", "1-3"}}, []registry.Move{{From: "file:/w/y", To: "file:/w/z"}}},
		{"rotated: another file at the old name", []foundFile{{"file:/w/a", "1-5"}, {"file:/w/a-1", "1-1"}},
			[]registry.Move{{From: "file:/w/a", To: "file:/w/a-1"}}},
	} {
		got := renames(c.found, kept, func(id string) string { return recorded[id] }, now)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestRunMigratesRegistry: checkpoints of a registry written before
// identities were kept are found by path, get their files' identities at
// the first scan (nothing read again), and follow renames from then on.
func TestRunMigratesRegistry(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	x := watchDirs(t, data, dir, newIDOutput(-1))
	writeAt(t, x.path("json/a.ndjson"), sysmonLines("ws1", 1, 20), os.O_TRUNC)
	x.round()
	if err := x.b.Close(); err != nil {
		t.Fatal(err)
	}
	// The registry as an older procbeat wrote it.
	path := filepath.Join(data, "registry.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := registry.Decode(raw)
	if err != nil || len(st.Identities) != 1 {
		t.Fatalf("registry written: %v, identities %v", err, st.Identities)
	}
	st.Identities = nil
	if raw, err = registry.Encode(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	y := watchDirs(t, data, dir, newIDOutput(-1))
	defer y.b.Close()
	y.round()
	rename(t, y.path("json/a.ndjson"), y.path("json/b.ndjson"))
	writeAt(t, y.path("json/b.ndjson"), sysmonLines("ws1", 21, 4), os.O_APPEND)
	y.round()
	if n, dups := y.shipped(); n != 4 || dups != nil {
		t.Errorf("after the upgrade and a rename: %d documents, want the 4 appended (duplicated: %v)", n, dups)
	}
}

// warnings keeps the warnings logged, safe for concurrent use.
type warnings struct {
	monitoring.NopLogger
	mu    sync.Mutex
	lines []string
}

func (w *warnings) Warnf(f string, a ...any) {
	w.mu.Lock()
	w.lines = append(w.lines, fmt.Sprintf(f, a...))
	w.mu.Unlock()
}

// about is how many warnings hold sub; every warning is then taken out
// of w.
func (w *warnings) about(sub string) int {
	n := w.count(sub)
	w.mu.Lock()
	w.lines = nil
	w.mu.Unlock()
	return n
}

// count is how many warnings hold sub, all kept.
func (w *warnings) count(sub string) (n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

// TestRestartDoesNotRepeatWarnings: a file read to its end before a clean
// stop, found as it was at the restart, is not read again: its damage is
// not reported again (it was), and nothing is sent. Damage written to it
// afterwards is reported.
func TestRestartDoesNotRepeatWarnings(t *testing.T) {
	t.Run("absolute", func(t *testing.T) { restartDoesNotRepeatWarnings(t, t.TempDir()) })
	// The registry names files by absolute path; an input's relative
	// pattern must find them as well.
	t.Run("relative", func(t *testing.T) {
		t.Chdir(t.TempDir())
		restartDoesNotRepeatWarnings(t, "watched")
	})
}

func restartDoesNotRepeatWarnings(t *testing.T, dir string) {
	data := t.TempDir()
	log := &warnings{}
	x := watchDirsLog(t, data, dir, newIDOutput(-1), log)
	// A broken record after the last good one: the checkpoint stays
	// before it.
	writeAt(t, x.path("json/a.ndjson"), sysmonLines("ws1", 1, 5)+`{"winlog":{"event_id": broken}}`+"\n", os.O_TRUNC)
	x.round()
	if n := log.about("a.ndjson"); n != 1 {
		t.Fatalf("%d warnings about the broken record, want 1", n)
	}
	if err := x.b.Close(); err != nil {
		t.Fatal(err)
	}

	out := newIDOutput(-1)
	y := watchDirsLog(t, data, dir, out, log)
	defer y.b.Close()
	y.round()
	if n := log.about("a.ndjson"); n != 0 {
		t.Errorf("restart: %d warnings about the file again, want none", n)
	}
	writeAt(t, y.path("json/a.ndjson"), sysmonLines("ws1", 6, 2)+`{"winlog":{"event_id": "1", broken again}}`+"\n", os.O_APPEND)
	y.round()
	// Read from the checkpoint, after the last good record: the new
	// broken record is the fourth from there.
	if n := log.about(": record 4: "); n != 1 {
		t.Errorf("%d warnings about the damage written after the restart, want 1", n)
	}
	if n, dups := y.shipped(); n != 2 || dups != nil {
		t.Errorf("after the restart: %d documents, want the 2 appended (duplicated: %v)", n, dups)
	}
}

// TestRestartReadsUnacknowledged: a file (or an archive) read to its end
// whose documents were not acknowledged when procbeat stopped is read
// again at the restart, though it did not change.
func TestRestartReadsUnacknowledged(t *testing.T) {
	for _, name := range []string{"a.ndjson", "a.zip"} {
		t.Run(name, func(t *testing.T) {
			dir, data := t.TempDir(), t.TempDir()
			hung := newIDOutput(0) // acknowledges nothing
			x := watchDirs(t, data, dir, hung)
			content := sysmonLines("ws1", 1, 20)
			if name == "a.zip" {
				var buf bytes.Buffer
				zw := zip.NewWriter(&buf)
				w, err := zw.Create("a.ndjson")
				if err == nil {
					_, err = w.Write([]byte(content))
				}
				if err == nil {
					err = zw.Close()
				}
				if err != nil {
					t.Fatal(err)
				}
				content = buf.String()
			}
			writeAt(t, x.path("json/"+name), content, os.O_TRUNC)
			if err := x.b.round(context.Background(), x.w); err != nil {
				t.Fatal(err)
			}
			_ = x.b.Close() // gives up on the documents in flight
			y := watchDirs(t, data, dir, newIDOutput(-1))
			defer y.b.Close()
			y.round()
			if n, _ := y.shipped(); n != 20 {
				t.Errorf("restart after documents went unacknowledged: %d documents, want 20", n)
			}
		})
	}
}
