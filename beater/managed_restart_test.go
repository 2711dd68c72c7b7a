package beater

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/source"
)

// TestManagedRestartDoesNotRepeatWarnings: under Elastic Agent too, a file
// the last run read to its end, found as it was, is not read again at a
// restart, so its damage is not reported again.
func TestManagedRestartDoesNotRepeatWarnings(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	writeAt(t, filepath.Join(dir, "a.ndjson"), sysmonLines("ws1", 1, 5)+`{"winlog":{"event_id": broken}}`+"\n", os.O_TRUNC)
	in := config.Input{Type: "json", Enabled: true, Paths: []string{dir}}
	log := &warnings{}
	start := func() *Managed {
		t.Helper()
		cfg := config.Default()
		cfg.Path.Data = data
		m, err := NewManaged(context.Background(), cfg, log, Options{Stdout: io.Discard, DrainTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.StartInput("evidence", in); err != nil {
			t.Fatal(err)
		}
		return m
	}
	// wait polls cond for 10 s.
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s after 10 s", what)
			}
		}
	}

	m := start()
	wait("read state of a.ndjson", func() bool {
		_, ok := m.b.runner.reg.Reads()[source.ID(filepath.Join(dir, "a.ndjson"))]
		return ok
	})
	if n := log.count("a.ndjson"); n != 1 {
		t.Fatalf("%d warnings about the broken record, want 1", n)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// The restart's first scan reads b.ndjson, new, after a.ndjson (in
	// name order): once b's damage is reported, a's would have been.
	writeAt(t, filepath.Join(dir, "b.ndjson"), sysmonLines("ws2", 1, 2)+`{"winlog":{"event_id": broken}}`+"\n", os.O_TRUNC)
	m = start()
	defer m.Close()
	wait("warning about b.ndjson", func() bool { return log.count("b.ndjson") > 0 })
	if n := log.count("a.ndjson"); n != 1 {
		t.Errorf("restart: %d warnings about a.ndjson in all, want the first run's 1", n)
	}
}
