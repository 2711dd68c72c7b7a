package beater_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/monitoring"
)

func (c *captureOutput) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.docs)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunPicksUpNewFilesAndResumes runs the input loop over a folder, adds a
// file while it runs, stops, and starts again: every document is delivered
// once, and the second run sends nothing already delivered.
func TestRunPicksUpNewFilesAndResumes(t *testing.T) {
	sample, err := os.ReadFile("../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	if err := os.WriteFile(filepath.Join(in, "a.xml"), sample, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Path.Data = t.TempDir()
	cfg.Procbeat.ScanFrequency = 100 * time.Millisecond
	cfg.Procbeat.Inputs = []config.Input{{Type: "xml", Enabled: true, Paths: []string{in}}}

	start := func(out *captureOutput) (*beater.Beater, context.CancelFunc, chan error) {
		b, err := beater.NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, out, beater.Options{Resume: true})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		return b, cancel, done
	}
	out := &captureOutput{}
	b, cancel, done := start(out)
	waitFor(t, "the first file", func() bool { return out.count() == 14 })
	if err := os.WriteFile(filepath.Join(in, "b.xml"), sample, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the file added while running", func() bool { return out.count() == 28 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	again := &captureOutput{}
	b, cancel, done = start(again)
	time.Sleep(300 * time.Millisecond)
	cancel()
	<-done
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if again.count() != 0 {
		t.Errorf("restart sent %d documents again", again.count())
	}
}

// TestAncestrySurvivesRestart replays a process tree split across two runs:
// the second run's documents still carry ancestry and parents learned in the
// first, because the tracker is saved with the registry.
func TestAncestrySurvivesRestart(t *testing.T) {
	sample, err := os.ReadFile("../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(sample), "\n")
	dir := t.TempDir()
	first, second := filepath.Join(dir, "1.xml"), filepath.Join(dir, "2.xml")
	// Records 1-2 start explorer and cmd; record 3 starts whoami under cmd
	// and record 6 ends it.
	if err := os.WriteFile(first, []byte(strings.Join(lines[:2], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(second, []byte(strings.Join(lines[2:], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Path.Data = t.TempDir()
	replay := func(path string) []map[string]any {
		out := &captureOutput{}
		b, err := beater.NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, out, beater.Options{Resume: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Replay(context.Background(), []string{path}); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		var docs []map[string]any
		for _, raw := range out.docs {
			var d map[string]any
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			docs = append(docs, d)
		}
		return docs
	}
	replay(first)
	docs := replay(second)
	whoami := docs[0]["process"].(map[string]any)
	anc, _ := whoami["Ext"].(map[string]any)["ancestry"].([]any)
	if len(anc) != 2 || anc[0] != "{8C5A2F71-0B11-65E7-2B04-000000003C00}" || anc[1] != "{8C5A2F71-0A9E-65E7-2A04-000000003C00}" {
		t.Errorf("ancestry after restart: %v", anc)
	}
	parent := whoami["parent"].(map[string]any)
	if parent["args_count"] != float64(6) {
		t.Errorf("parent args not carried over: %v", parent)
	}
	var end map[string]any
	for _, d := range docs {
		if d["event"].(map[string]any)["action"] == "end" && d["process"].(map[string]any)["pid"] == float64(5120) {
			end = d["process"].(map[string]any)
		}
	}
	if end == nil || end["command_line"] != "whoami  /priv" || len(end["Ext"].(map[string]any)["ancestry"].([]any)) != 2 {
		t.Errorf("end event after restart: %v", end)
	}
}

// TestGrowingFileResumes replays a file, lets it grow (a live log copied
// again to the same place), and replays it again: only the new records are
// sent.
func TestGrowingFileResumes(t *testing.T) {
	sample, err := os.ReadFile("../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(sample), "\n")
	path := filepath.Join(t.TempDir(), "Sysmon.xml")
	cfg := config.Default()
	cfg.Path.Data = t.TempDir()
	replay := func() int {
		out := &captureOutput{}
		b, err := beater.NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, out, beater.Options{Resume: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Replay(context.Background(), []string{path}); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		return out.count()
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines[:6], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := replay(); n != 6 {
		t.Fatalf("first part: %d documents, want 6", n)
	}
	if err := os.WriteFile(path, sample, 0o600); err != nil {
		t.Fatal(err)
	}
	if n := replay(); n != 8 {
		t.Fatalf("after growing: %d documents, want the 8 new ones", n)
	}
}

// warnLines keeps the warnings logged.
type warnLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *warnLines) Debugf(string, ...any) {}
func (l *warnLines) Infof(string, ...any)  {}
func (l *warnLines) Errorf(string, ...any) {}
func (l *warnLines) Warnf(f string, a ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(f, a...))
	l.mu.Unlock()
}

func (l *warnLines) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

// TestRunPatternMatchingNothing: an input's pattern that matches nothing
// yet does not keep its next pattern from being read, and is said once,
// not at every scan.
func TestRunPatternMatchingNothing(t *testing.T) {
	sample, err := os.ReadFile("../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	if err := os.WriteFile(filepath.Join(in, "a.xml"), sample, 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "*.xml")
	cfg := config.Default()
	cfg.Path.Data = t.TempDir()
	cfg.Procbeat.ScanFrequency = 100 * time.Millisecond
	cfg.Procbeat.Inputs = []config.Input{{Type: "xml", Enabled: true, Paths: []string{empty, filepath.Join(in, "*.xml")}}}
	out := &captureOutput{}
	log := &warnLines{}
	stop := runBeater(t, cfg, log, out)
	waitFor(t, "the second pattern's file", func() bool { return out.count() == 14 })
	time.Sleep(500 * time.Millisecond) // several scans
	stop()
	if n := log.count("matches no file"); n != 1 {
		t.Errorf("%d warnings that the pattern matches no file, want 1: %q", n, log.lines)
	}
}

// TestRunForgetsRemovedFiles: a file read and then removed leaves no
// checkpoint behind (the registry does not grow with every file a
// collection folder ever held), and a file that comes back by its name is
// read again from its start, as a new one.
func TestRunForgetsRemovedFiles(t *testing.T) {
	sample, err := os.ReadFile("../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	a, keep := filepath.Join(in, "a.xml"), filepath.Join(in, "keep.xml")
	for _, p := range []string{a, keep} {
		if err := os.WriteFile(p, sample, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.Path.Data = t.TempDir()
	cfg.Procbeat.ScanFrequency = 100 * time.Millisecond
	cfg.Procbeat.Inputs = []config.Input{{Type: "xml", Enabled: true, Paths: []string{in}}}
	out := &captureOutput{}
	stop := runBeater(t, cfg, monitoring.NopLogger{}, out)
	registry := filepath.Join(cfg.Path.Data, "registry.json")
	holds := func(p string) bool {
		raw, _ := os.ReadFile(registry)
		return strings.Contains(string(raw), strings.ReplaceAll(p, `\`, `\\`))
	}
	waitFor(t, "both files' checkpoints", func() bool { return out.count() == 28 && holds(a) && holds(keep) })
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removed file's checkpoint to go", func() bool { return !holds(a) })
	if !holds(keep) {
		t.Fatal("the file still there lost its checkpoint")
	}
	if err := os.WriteFile(a, sample, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the file back by its name, read again", func() bool { return out.count() == 42 })
	stop()
}

// runBeater starts Run with cfg's inputs; stop ends it and closes the
// Beater, failing the test on an error of either.
func runBeater(t *testing.T, cfg config.Config, log monitoring.Logger, out *captureOutput) (stop func()) {
	t.Helper()
	b, err := beater.NewWithOutput(context.Background(), cfg, log, out, beater.Options{Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
