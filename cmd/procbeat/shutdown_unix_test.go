//go:build unix

package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// Signals are sent to a child procbeat (startProcbeat); Windows has no
// SIGINT to send to another process.

// TestRunSecondSignalForcesExit: during a drain that could last a minute, a
// second SIGINT stops procbeat at once, saying what it left for next time.
// Before, signals were ignored while draining (30 s fixed).
func TestRunSecondSignalForcesExit(t *testing.T) {
	cfg := runConfig(t, "60s")
	cmd, stderr := startProcbeat(t, "run", "-e", "-c", cfg)
	waitFor(t, stderr, "retrying")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stderr, "draining events in flight")
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	took := waitExit(t, cmd, stderr, 10*time.Second)
	if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(stderr.String(), "second signal") ||
		!strings.Contains(stderr.String(), "events unacknowledged (read again by the next run)") {
		t.Errorf("exit %d after %s:\n%s", cmd.ProcessState.ExitCode(), took, stderr)
	}
	// Nothing was acknowledged, so no checkpoint moved: resuming from the
	// same registry reads every document again.
	out, errs, code := run(t, "replay", "--resume", "-c", cfg, "-E", "output.elasticsearch.enabled=false", "../../testdata/sample/sample.xml")
	if code != 0 || strings.Count(out, "\n") != 14 {
		t.Errorf("resumed after the forced exit: exit %d, %d documents, want 14: %s", code, strings.Count(out, "\n"), errs)
	}
}

// TestRunShutdownTimeout: shutdown_timeout bounds the drain of `run`.
func TestRunShutdownTimeout(t *testing.T) {
	for _, tc := range []struct {
		setting string
		limit   time.Duration
	}{{"1s", 8 * time.Second}, {"0s", 5 * time.Second}} {
		cmd, stderr := startProcbeat(t, "run", "-e", "-c", runConfig(t, tc.setting))
		waitFor(t, stderr, "retrying")
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		took := waitExit(t, cmd, stderr, tc.limit)
		if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(stderr.String(), "events unacknowledged") {
			t.Errorf("shutdown_timeout %s: exit %d after %s:\n%s", tc.setting, cmd.ProcessState.ExitCode(), took, stderr)
		}
	}
}
