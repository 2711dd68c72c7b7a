//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReplayFIFONeverBlocks: a FIFO named *.xml, given on the command line
// or found in a directory, is never opened (opening it would wait for a
// writer for ever, deaf to SIGINT): the replay ends at once, names it, and
// reads the rest.
func TestReplayFIFONeverBlocks(t *testing.T) {
	sample, err := os.ReadFile("../../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "events.xml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.xml"), sample, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var out, stderr, log string
	var code int
	go func() {
		defer close(done)
		out, stderr, log, code = runLogged(t, "replay", fifo, dir)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("replay blocked on a FIFO")
	}
	if strings.Count(out, "\n") != 14 || code != ExitInputErrors {
		t.Fatalf("exit %d, %d documents: %s", code, strings.Count(out, "\n"), stderr)
	}
	if !strings.Contains(stderr, fifo+": skipped: a FIFO (named pipe), not a regular file") ||
		!strings.Contains(log, fifo+": skipped: a FIFO") {
		t.Errorf("the FIFO is not named:\n%s\nlog:\n%s", stderr, log)
	}
}
