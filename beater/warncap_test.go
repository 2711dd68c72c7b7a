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
	"github.com/procbeat/procbeat/fields/document"
)

type linesLogger struct {
	mu    sync.Mutex
	warns []string
}

func (l *linesLogger) Debugf(string, ...any) {}
func (l *linesLogger) Infof(string, ...any)  {}
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

// A file name with control characters cannot recolour the terminal or
// forge summary lines.
func TestSummaryEscapesPaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "evil\x1bc\nfiles: 999.json")
	if err := os.WriteFile(path, []byte("{not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := beater.NewWithOutput(context.Background(), config.Default(), &linesLogger{}, beater.DiscardOutput{}, beater.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := b.Replay(context.Background(), []string{path})
	b.Close()
	var w strings.Builder
	sum.Write(&w)
	if strings.Contains(w.String(), "\x1b") || strings.Contains(w.String(), "\nfiles: 999") || !strings.Contains(w.String(), `evil\x1bc\nfiles: 999.json`) {
		t.Errorf("summary:\n%q", w.String())
	}
}

// Interrupted mid-file (SIGINT cancels the context), the summary counts
// only the documents that were published, not one refused. Whether the
// fifth document's Publish sees the cancellation first is up to select's
// random choice, so the run is repeated: either way the counts must agree.
func TestInterruptedSummaryCountsPublished(t *testing.T) {
	for range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		seen := 0
		b, err := beater.NewWithOutput(context.Background(), config.Default(), &linesLogger{}, beater.DiscardOutput{},
			beater.Options{Observe: func(*document.Document) {
				if seen++; seen == 5 {
					cancel() // the fifth document's Publish sees it
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		sum, _ := b.Replay(ctx, []string{"../testdata/sample/sample.xml"})
		cancel()
		if cerr := b.Close(); cerr != nil {
			t.Fatal(cerr)
		}
		if published := b.Counters().EventsPublished.Load(); sum.Documents() != int64(published) {
			t.Fatalf("summary counts %d documents, %d were published", sum.Documents(), published)
		}
	}
}
