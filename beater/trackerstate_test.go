package beater

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

// A process table kept the old way, in the registry's extra blob, moves to
// the journal once and leaves the registry, which then stays small.
func TestTrackerStateMigratesFromRegistry(t *testing.T) {
	dir := t.TempDir()
	table := oldProcessTable(t)
	path := filepath.Join(dir, "registry.json")
	reg, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg.SetExtra(table)
	if err := reg.Flush(); err != nil {
		t.Fatal(err)
	}

	reg, tr, j := openRegistryAndState(t, dir, path)
	if _, ok := tr.Lookup("h", "{parent}"); !ok {
		t.Fatal("process of the registry's table not loaded")
	}
	checkpointOnce(t, reg, j)
	if st, err := os.Stat(path); err != nil || st.Size() > 1024 {
		t.Errorf("registry after migration: %v, %d bytes", err, st.Size())
	}

	reg, tr2, j2 := openRegistryAndState(t, dir, path)
	defer j2.Close()
	if _, ok := tr2.Lookup("h", "{parent}"); !ok || len(reg.Extra()) != 0 {
		t.Errorf("after restart: found %v, registry extra %d bytes", ok, len(reg.Extra()))
	}
}

// A version 1 registry (written before sources owned their positions)
// loses its positions on loading but keeps its extra blob: the process
// table it carries still moves to the journal, and the registry written
// next is a version 2 one without it.
func TestTrackerStateMigratesFromVersion1Registry(t *testing.T) {
	dir := t.TempDir()
	table := oldProcessTable(t)
	payload, err := json.Marshal(map[string]any{
		"positions": []map[string]any{{"source": "file:/logs/a.evtx", "offset": 42}},
		"extra":     table,
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(payload)
	path := filepath.Join(dir, "registry.json")
	v1 := fmt.Appendf(nil, "procbeat-registry 1 sha256:%x %d\n%s", sum, len(payload), payload)
	if err := os.WriteFile(path, v1, 0o600); err != nil {
		t.Fatal(err)
	}

	reg, tr, j := openRegistryAndState(t, dir, path)
	if _, ok := tr.Lookup("h", "{parent}"); !ok {
		t.Fatal("process of the version 1 registry's table not loaded")
	}
	checkpointOnce(t, reg, j)
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("procbeat-registry 2 ")) || bytes.Contains(b, []byte(`"extra"`)) {
		t.Fatalf("registry after migration: %v\n%s", err, b)
	}

	reg, tr2, j2 := openRegistryAndState(t, dir, path)
	defer j2.Close()
	if _, ok := tr2.Lookup("h", "{parent}"); !ok || len(reg.Extra()) != 0 {
		t.Errorf("after restart: found %v, registry extra %d bytes", ok, len(reg.Extra()))
	}
}

// oldProcessTable is a process table saved the old way: one process,
// {parent} on host h.
func oldProcessTable(t *testing.T) []byte {
	t.Helper()
	old := tracker.New(tracker.Options{})
	old.Start("h", tracker.Entry{EntityID: "{parent}", PID: 10, Start: time.Unix(100, 0)})
	var buf bytes.Buffer
	if err := old.Save(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// openRegistryAndState opens the registry at path and loads a new
// tracker's state from dir, as the Beater does at start.
func openRegistryAndState(t *testing.T, dir, path string) (*registry.Registry, *tracker.Tracker, *tracker.Journal) {
	t.Helper()
	reg, err := registry.Open(path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr := tracker.New(tracker.Options{})
	j, err := openTrackerState(dir, tr, reg, monitoring.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	return reg, tr, j
}

// checkpointOnce acknowledges one event through the journaled checkpoints,
// writes them and closes the journal.
func checkpointOnce(t *testing.T, reg *registry.Registry, j *tracker.Journal) {
	t.Helper()
	cp := &journaledCheckpoints{reg: reg, j: j}
	cp.Done([]pipeline.Ticket{cp.Begin(pipeline.Position{Source: "s", Offset: 1})})
	if err := cp.Flush(); err != nil {
		t.Fatal(err)
	}
	j.Close()
}
