//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Signals are sent to a child procbeat (startProcbeat); Windows has no
// SIGINT to send to another process.

// startProcbeat starts this test binary as procbeat with args; stderr
// (where -e logs go) is returned once it exits.
func startProcbeat(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PROCBEAT_TEST_MAIN=1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, &stderr
}

// runConfig is a `run` whose output never acknowledges: its drain can only
// end by shutdown_timeout or a second signal.
func runConfig(t *testing.T, shutdownTimeout string) string {
	t.Helper()
	sample, err := filepath.Abs("../../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	return writeConfig(t, "procbeat.inputs:\n  - {type: xml, enabled: true, paths: ["+sample+"]}\n"+
		"output.elasticsearch:\n  hosts: [\""+deadAddress(t)+"\"]\n  backoff: {init: 100ms, max: 200ms}\n"+
		"path.data: "+t.TempDir()+"\nlogging.metrics.enabled: false\nshutdown_timeout: "+shutdownTimeout+"\n")
}

// waitExit waits for cmd to exit, at most limit, and returns how long it took.
func waitExit(t *testing.T, cmd *exec.Cmd, stderr *syncBuffer, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("still running %s after the signal:\n%s", limit, stderr)
		return 0
	}
}

// waitFor waits until stderr shows want (the job is under way).
func waitFor(t *testing.T, stderr *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if strings.Contains(stderr.String(), want) {
			return
		}
	}
	t.Fatalf("never logged %q:\n%s", want, stderr)
}

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
	// same registry, for the same destination (a replay to another reads
	// everything again anyway), reads every record again; the cluster is
	// still down, so the replay gives up.
	_, errs, code := run(t, "replay", "--resume", "-c", cfg, "--max-unreachable", "1s", "../../testdata/sample/sample.xml")
	if code != ExitFatal || !strings.Contains(errs, "records read: 15\n") || strings.Contains(errs, "another destination") {
		t.Errorf("resumed after the forced exit: exit %d, want every record read again: %s", code, errs)
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

// TestReplaySignalsAreAnnounced: the first SIGINT during a replay logs that
// it drains for up to shutdown_timeout and that a second signal stops at
// once (it waited in silence); after the second, the summary says the job
// failed instead of "errors: none" just before the error.
func TestReplaySignalsAreAnnounced(t *testing.T) {
	cmd, stderr := startProcbeat(t, "replay", "--path.data", t.TempDir(), "-E", "shutdown_timeout=60s",
		"-E", `output.elasticsearch.hosts=["`+deadAddress(t)+`"]`,
		"-E", "output.elasticsearch.backoff.init=100ms", "-E", "output.elasticsearch.backoff.max=200ms",
		"-E", "logging.metrics.enabled=false", "../../testdata/sample/sample.xml")
	waitFor(t, stderr, "retrying")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stderr, "draining events in flight for up to 1m0s (shutdown_timeout; a second signal stops at once)")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, stderr, 10*time.Second)
	out := stderr.String()
	if cmd.ProcessState.ExitCode() != ExitFatal || strings.Contains(out, "errors: none") ||
		!strings.Contains(out, "FAILED: interrupted") || !strings.Contains(out, "events unacknowledged") {
		t.Errorf("exit %d:\n%s", cmd.ProcessState.ExitCode(), out)
	}
}
