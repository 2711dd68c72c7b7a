package beater_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
)

type linesLogger struct {
	mu    sync.Mutex
	warns []string
}

func (l *linesLogger) Infof(string, ...any) {}
func (l *linesLogger) Warnf(f string, a ...any) {
	l.mu.Lock()
	l.warns = append(l.warns, fmt.Sprintf(f, a...))
	l.mu.Unlock()
}
func (l *linesLogger) Errorf(string, ...any) {}

// A file of garbage logs at most MaxWarningsPerFile record warnings; the
// rest are counted in one line and in the summary.
func TestRecordWarningsCappedPerFile(t *testing.T) {
	const bad = 3 * beater.MaxWarningsPerFile
	path := filepath.Join(t.TempDir(), "garbage.json")
	if err := os.WriteFile(path, []byte(strings.Repeat("[1]\n", bad)), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &linesLogger{}
	b, err := beater.NewWithOutput(context.Background(), config.Default(), log, beater.DiscardOutput{}, beater.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := b.Replay(context.Background(), []string{path})
	if cerr := b.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(log.warns) != beater.MaxWarningsPerFile+1 {
		t.Fatalf("%d warnings logged, want %d and one line for the rest", len(log.warns), beater.MaxWarningsPerFile+1)
	}
	if last := log.warns[len(log.warns)-1]; !strings.Contains(last, fmt.Sprintf("%d more record warnings not shown", bad-beater.MaxWarningsPerFile)) {
		t.Errorf("last line %q", last)
	}
	var w strings.Builder
	sum.Write(&w)
	if want := fmt.Sprintf("record warnings not shown (over %d per file): %d", beater.MaxWarningsPerFile, bad-beater.MaxWarningsPerFile); !strings.Contains(w.String(), want) {
		t.Errorf("summary:\n%s\nwant %q", w.String(), want)
	}
}
