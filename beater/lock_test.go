package beater

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/monitoring"
)

type recordLogger struct{ lines []string }

func (l *recordLogger) Debugf(string, ...any) {}
func (l *recordLogger) Infof(f string, a ...any) {
	l.lines = append(l.lines, "INFO "+fmt.Sprintf(f, a...))
}
func (l *recordLogger) Warnf(f string, a ...any) {
	l.lines = append(l.lines, "WARN "+fmt.Sprintf(f, a...))
}
func (l *recordLogger) Errorf(f string, a ...any) {
	l.lines = append(l.lines, "ERROR "+fmt.Sprintf(f, a...))
}

// A second holder of the same data path is refused at once, with the
// first one's pid; once released, the path can be taken again.
func TestLockRefusesSecondHolder(t *testing.T) {
	dir := t.TempDir()
	first, err := lockDataPath(dir, monitoring.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockDataPath(dir, monitoring.NopLogger{})
	if err == nil || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second lock: %v; want a refusal naming pid %d and %s", err, os.Getpid(), dir)
	}
	if err := first.release(); err != nil {
		t.Fatal(err)
	}
	again, err := lockDataPath(dir, monitoring.NopLogger{})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.release()
}

// A lock file left by a process that died (killed: nothing cleaned it up)
// does not block, and the takeover is logged with the dead pid.
func TestLockRecoversStaleFile(t *testing.T) {
	cmd := exec.Command("sleep", "0")
	if err := cmd.Run(); err != nil {
		t.Skipf("no child process to take a dead pid from: %v", err)
	}
	dead := cmd.Process.Pid
	if processAlive(dead) {
		t.Skipf("pid %d was reused already", dead)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, lockFileName), []byte(strconv.Itoa(dead)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &recordLogger{}
	l, err := lockDataPath(dir, log)
	if err != nil {
		t.Fatalf("stale lock of dead pid %d: %v", dead, err)
	}
	defer l.release()
	if len(log.lines) != 1 || !strings.Contains(log.lines[0], "pid "+strconv.Itoa(dead)+", which is no longer running") {
		t.Errorf("log %q: want the takeover of pid %d", log.lines, dead)
	}
	if got := readPID(l.f); got != os.Getpid() {
		t.Errorf("lock file names pid %d, want %d", got, os.Getpid())
	}
}

func TestProcessAlive(t *testing.T) {
	if !processAlive(os.Getpid()) {
		t.Error("this process is not alive")
	}
}
