package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain lets a test run this binary as procbeat itself
// (PROCBEAT_TEST_MAIN=1), to send it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("PROCBEAT_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// deadAddress is a TCP address where nothing listens.
func deadAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// syncBuffer is a bytes.Buffer read while the child writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

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

// TestReplayUnreachableOutputFails: a replay whose cluster is down gives up
// after --max-unreachable with exit 1 and a summary that says so, where it
// used to retry for ever.
func TestReplayUnreachableOutputFails(t *testing.T) {
	type result struct {
		stderr string
		code   int
	}
	done := make(chan result, 1)
	go func() {
		_, stderr, code := run(t, "replay", "--max-unreachable", "2s", "-E", "path.data="+t.TempDir(),
			"-E", "output.elasticsearch.enabled=true", "-E", `output.elasticsearch.hosts=["`+deadAddress(t)+`"]`,
			"-E", "output.elasticsearch.backoff.init=100ms", "-E", "output.elasticsearch.backoff.max=200ms",
			"../../testdata/sample/sample.xml")
		done <- result{stderr, code}
	}()
	select {
	case r := <-done:
		if r.code != ExitFatal || !strings.Contains(r.stderr, "delivery FAILED: output unreachable: no document acknowledged for 2s") ||
			strings.Contains(r.stderr, "errors: none") {
			t.Errorf("exit %d:\n%s", r.code, r.stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("replay against an unreachable cluster still running after 60s")
	}
}
