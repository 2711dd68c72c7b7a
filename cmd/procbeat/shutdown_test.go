package main

import (
	"bytes"
	"net"
	"os"
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
