package beater

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/monitoring"
)

func TestAgentIDEmptyMetaRecovered(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "meta.json")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	id, err := agentID(dir, monitoring.NopLogger{})
	if err != nil || len(id) != 36 {
		t.Fatalf("empty meta.json: %q %v", id, err)
	}
	again, err := agentID(dir, monitoring.NopLogger{})
	if err != nil || again != id {
		t.Fatalf("second read %q %v, want %q", again, err, id)
	}
	if err := os.WriteFile(path, []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := agentID(dir, monitoring.NopLogger{}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt meta.json: %v, want an error naming it", err)
	}
}

// A file-header error names the file once: in the source's error, and in
// the replay's log line and summary.
func TestHeaderErrorNamesFileOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.evtx")
	if err := os.WriteFile(path, []byte("ElfFile\x00short"), 0o600); err != nil {
		t.Fatal(err)
	}
	rd, err := source.NewFile(path, source.Options{}).Open(context.Background(), source.Position{})
	if err == nil {
		rd.Close()
	}
	if err == nil || strings.Count(err.Error(), path) != 1 {
		t.Errorf("error %q: want %s named once", err, path)
	}

	log := &errorsLogger{}
	b, err := NewWithOutput(context.Background(), config.Default(), log, DiscardOutput{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := b.Replay(context.Background(), []string{path})
	if cerr := b.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if !errors.Is(err, ErrInputErrors) {
		t.Fatalf("replay: %v, want input errors", err)
	}
	if len(log.errs) != 1 || strings.Count(log.errs[0], path) != 1 {
		t.Errorf("logged %q: want one line naming %s once", log.errs, path)
	}
	var w strings.Builder
	s.Write(&w)
	if strings.Count(w.String(), path) != 1 || !strings.Contains(w.String(), "reading file header") {
		t.Errorf("summary names %s %d times, want once with the problem:\n%s", path, strings.Count(w.String(), path), w.String())
	}
}

// errorsLogger keeps the error lines.
type errorsLogger struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorsLogger) Debugf(string, ...any) {}
func (l *errorsLogger) Infof(string, ...any)  {}
func (l *errorsLogger) Warnf(string, ...any)  {}
func (l *errorsLogger) Errorf(f string, a ...any) {
	l.mu.Lock()
	l.errs = append(l.errs, fmt.Sprintf(f, a...))
	l.mu.Unlock()
}

// A replay that keeps no checkpoints still carries the installation's
// agent.id, the one in path.data/meta.json; where path.data cannot be
// written, it replays without agent.id and says why.
func TestReplayWithoutResumeCarriesAgentID(t *testing.T) {
	sample := filepath.Join("..", "testdata", "sample", "sample.xml")
	replay := func(data string) ([]string, *recordLogger) {
		t.Helper()
		cfg := config.Default()
		cfg.Path.Data = data
		out := &bodyOutput{}
		log := &recordLogger{}
		b, err := NewWithOutput(context.Background(), cfg, log, out, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Replay(context.Background(), []string{sample}); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if len(out.bodies) != 14 {
			t.Fatalf("%d documents, want 14", len(out.bodies))
		}
		return out.bodies, log
	}

	data := filepath.Join(t.TempDir(), "data")
	docs, _ := replay(data)
	raw, err := os.ReadFile(filepath.Join(data, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct{ UUID string }
	if err := json.Unmarshal(raw, &meta); err != nil || len(meta.UUID) != 36 {
		t.Fatalf("meta.json %s: %v", raw, err)
	}
	want := `"agent":{"id":"` + meta.UUID + `"`
	for i, d := range docs {
		if !strings.Contains(d, want) {
			t.Fatalf("document %d lacks %s: %s", i+1, want, d)
		}
	}
	// The next run keeps the id, and writes no registry: it resumes nothing.
	again, _ := replay(data)
	if !strings.Contains(again[0], want) {
		t.Errorf("second run: %s, want %s", again[0], want)
	}
	if _, err := os.Stat(filepath.Join(data, "registry.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("registry.json: %v, want none without --resume", err)
	}

	// path.data under a regular file cannot be made.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	docs, log := replay(filepath.Join(file, "data"))
	if strings.Contains(docs[0], `"agent":{"id"`) {
		t.Errorf("agent.id without a path.data: %s", docs[0])
	}
	if len(log.lines) == 0 || !strings.Contains(strings.Join(log.lines, "\n"), "WARN documents carry no agent.id: path.data: ") {
		t.Errorf("log %q: want a warning that agent.id is left out", log.lines)
	}
}
