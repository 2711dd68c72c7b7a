package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/internal/cputime"
)

// The test binary is also the command timed: with CMDTIME_CHILD set it
// spins for that many milliseconds of its own CPU time (not of wall time:
// on a loaded machine a spin of 60 ms of wall time got 24 ms of CPU), then
// exits with status 3. Where the process's CPU time cannot be read
// (cputime.Process is 0 but on Unix), it stops after 10 s of wall time.
func TestMain(m *testing.M) {
	if ms := os.Getenv("CMDTIME_CHILD"); ms != "" {
		n, _ := strconv.Atoi(ms)
		end, stop := time.Duration(n)*time.Millisecond, time.Now().Add(10*time.Second)
		for cputime.Process() < end && time.Now().Before(stop) {
		}
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func TestRunAppendsTimesToTheMicrosecond(t *testing.T) {
	out := filepath.Join(t.TempDir(), "times")
	t.Setenv("CMDTIME_CHILD", "60")
	for range 2 {
		code, err := run(out, []string{os.Args[0]})
		if err != nil || code != 3 {
			t.Fatalf("run = %d, %v; want the command's status 3", code, err)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per run:\n%s", len(lines), b)
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 4 {
			t.Fatalf("line %q: want wall, user, sys and RSS", l)
		}
		wall, _ := strconv.ParseFloat(f[0], 64)
		user, _ := strconv.ParseFloat(f[1], 64)
		// The child spun until its threads had used 60 ms of CPU: user
		// plus system time hold that, to the scheduler's accounting, and
		// wall time nearly (the runtime's threads start in parallel).
		// Upper bounds catch a unit that is not the second.
		if cpu := user + mustFloat(t, f[2]); wall < 0.05 || cpu < 0.055 || wall > 10 || cpu > 10 {
			t.Errorf("line %q: a 60 ms spin measured as wall %v, user %v", l, wall, user)
		}
		if i := strings.IndexByte(f[1], '.'); i < 0 || len(f[1])-i-1 != 6 {
			t.Errorf("user time %q: not to the microsecond", f[1])
		}
	}
}

func TestRunReportsACommandThatDoesNotStart(t *testing.T) {
	out := filepath.Join(t.TempDir(), "times")
	code, err := run(out, []string{filepath.Join(t.TempDir(), "missing")})
	if err == nil || code != 127 {
		t.Fatalf("run = %d, %v; want 127 and the error", code, err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("times written for a command that did not run: %v", err)
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
