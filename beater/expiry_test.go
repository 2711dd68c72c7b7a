package beater

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/monitoring"
)

// On a live channel (a source that does not end) a start whose twin never
// comes is published once the merge window has passed in wall time:
// the latency merging adds to it is the window plus the expiry period.
func TestHeldRecordExpiresOnLiveChannels(t *testing.T) {
	sample, err := os.ReadFile("../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(sample), "\n")
	// Record 1 is a 4688 (explorer), record 2 a Sysmon 1 (cmd) of the same
	// host with no Security twin: with both providers seen, cmd is held.
	dir := t.TempDir()
	p := filepath.Join(dir, "live.xml")
	if err := os.WriteFile(p, []byte(lines[0]+lines[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Path.Data = t.TempDir()
	const window = 200 * time.Millisecond
	cfg.Procbeat.Merge.Tolerance, cfg.Procbeat.Merge.Window = 50*time.Millisecond, window
	out := newIDOutput(-1)
	b, err := NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, out, Options{Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if err := b.runner.Run(ctx, source.NewFile(p, b.runner.opts)); err != nil {
		t.Fatal(err)
	}
	read := time.Now()
	if b.runner.merger.Len() != 1 {
		t.Fatalf("%d records held, want the Sysmon start", b.runner.merger.Len())
	}
	go b.runner.RunExpiry(ctx, 10*time.Millisecond)
	// Published, that is handed to the pipeline (whose own batching,
	// flush_interval, comes on top with or without merging).
	for b.counters.EventsPublished.Load() < 2 {
		if time.Since(read) > 5*time.Second {
			t.Fatalf("held record not published after %s", time.Since(read))
		}
		time.Sleep(time.Millisecond)
	}
	lat := time.Since(read)
	t.Logf("a start without a twin went out %s after it was read (window %s, expiry every 10ms)", lat, window)
	if lat < window-20*time.Millisecond {
		t.Errorf("released after %s, before the window %s", lat, window)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(out.stored()); n != 2 {
		t.Errorf("%d documents delivered, want 2", n)
	}
}
