package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTwoProcessesOneDataPath runs a replay that holds path.data (its
// stdout is a pipe nobody reads, so it blocks mid-run), then a second one
// on the same data path: the second exits at once naming the first's pid.
// The first is then killed, leaving its lock file behind: a third run
// takes the stale lock over and completes.
func TestTwoProcessesOneDataPath(t *testing.T) {
	input, _ := bigInput(t, 200)
	dataDir := t.TempDir()
	args := []string{"replay", "--resume", "-E", "path.data=" + dataDir, input}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	first := exec.CommandContext(ctx, procbeatBin, args...)
	first.Dir = t.TempDir()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	first.Stdout = pw
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	defer func() { _ = first.Process.Kill(); _ = first.Wait() }()
	lock := filepath.Join(dataDir, "procbeat.lock")
	pid := strconv.Itoa(first.Process.Pid)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if data, _ := os.ReadFile(lock); strings.TrimSpace(string(data)) == pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first replay (pid %s) did not take %s", pid, lock)
		}
		time.Sleep(20 * time.Millisecond)
	}

	begin := time.Now()
	second, _, stderr := command(t, ctx, args...)
	err = second.Run()
	var ex *exec.ExitError
	if !errors.As(err, &ex) || ex.ExitCode() == 0 {
		t.Fatalf("second replay on the same path.data: %v, want a failure", err)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("second replay took %v to give up: it must exit at once", took)
	}
	if msg := stderr.String(); !strings.Contains(msg, "in use by another procbeat, pid "+pid) {
		t.Fatalf("second replay's message does not name pid %s:\n%s", pid, msg)
	}

	// SIGKILL: nothing cleans up, the file still names the dead pid.
	_ = first.Process.Kill()
	_ = first.Wait()
	if data, _ := os.ReadFile(lock); strings.TrimSpace(string(data)) != pid {
		t.Fatalf("lock file after the kill holds %q, want the dead pid %s", data, pid)
	}
	third, _, stderr3 := command(t, ctx, args...)
	third.Stdout = nil
	if err := third.Run(); err != nil {
		t.Fatalf("replay after the holder died: %v\n%s", err, tail(stderr3.String(), 20))
	}
	if !strings.Contains(stderr3.String(), "left by pid "+pid+", which is no longer running") {
		t.Errorf("the takeover of the stale lock is not logged:\n%s", tail(stderr3.String(), 20))
	}
}
