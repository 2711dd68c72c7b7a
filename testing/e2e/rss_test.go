package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/testing/estest"
)

// TestReplay100kProcessesRSS replays 100,000 process creations (written by
// tools/genprocs) into Elasticsearch with --resume, then resumes it (the
// table of 100,000 processes is loaded back, nothing is sent), and checks
// both peak RSS against what the configuration is documented to cost:
// beater.BaseMemory plus beater.BytesPerProcess per tracked process. It
// takes minutes and needs GNU time: it runs only with PROCBEAT_RSS_TEST=1.
func TestReplay100kProcessesRSS(t *testing.T) {
	if os.Getenv("PROCBEAT_RSS_TEST") != "1" {
		t.Skip("set PROCBEAT_RSS_TEST=1 to measure (needs /usr/bin/time, takes minutes)")
	}
	const n = 100000
	c := estest.Start(t)
	e := es{t, c}
	ns := c.Namespace(t)
	setup(t, c)
	input := filepath.Join(t.TempDir(), "procs.xml")
	gen := exec.Command("go", "run", "./tools/genprocs", "-n", strconv.Itoa(n), "-o", input)
	gen.Dir = repoRoot(t)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("genprocs: %v\n%s", err, out)
	}
	dataDir := t.TempDir()
	limit := int64(beater.BaseMemory) + n*beater.BytesPerProcess
	for run := 1; run <= 2; run++ {
		args := append([]string{"-f", "max_rss_kib=%M wall_s=%e", procbeatBin, "replay", "--resume", input}, esArgs(c, c.URL)...)
		args = append(args, "-E", "procbeat.namespace="+ns, "-E", "path.data="+dataDir, "-E", "procbeat.tracker.max_processes="+strconv.Itoa(n))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cmd := exec.CommandContext(ctx, "/usr/bin/time", args...)
		cmd.Dir = t.TempDir()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, tail(stderr.String(), 20))
		}
		m := regexp.MustCompile(`max_rss_kib=(\d+) wall_s=(\S+)`).FindStringSubmatch(stderr.String())
		if m == nil {
			t.Fatalf("run %d: no measurement:\n%s", run, tail(stderr.String(), 5))
		}
		kib, _ := strconv.ParseInt(m[1], 10, 64)
		t.Logf("run %d: peak RSS %.1f MiB (limit %.1f MiB), %s s; %s", run, float64(kib)/1024, float64(limit)/(1<<20), m[2],
			strings.TrimSpace(regexp.MustCompile(`documents: [^\n]*`).FindString(stderr.String())))
		if kib*1024 > limit {
			t.Errorf("run %d: peak RSS %d KiB over %d KiB", run, kib, limit/1024)
		}
	}
	e.refresh(processStream(ns))
	if got := e.count(processStream(ns), nil); got != n {
		t.Errorf("%d documents, want %d", got, n)
	}
}
