package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/elastic-agent-libs/mapstr"
)

// logLines decodes the ECS JSON log lines of a command's stderr (the
// summary and other plain text lines are skipped).
func logLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// debugLoggers counts debug lines per log.logger.
func debugLoggers(lines []map[string]any) map[string]int {
	n := map[string]int{}
	for _, l := range lines {
		if l["log.level"] == "debug" {
			name, _ := l["log.logger"].(string)
			n[name]++
		}
	}
	return n
}

func TestDebugSelectors(t *testing.T) {
	sample := "../../testdata/sample/sample.xml"
	_, stderr, code := run(t, "replay", sample)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := debugLoggers(logLines(t, stderr)); len(n) != 0 {
		t.Errorf("debug lines without -d: %v", n)
	}
	for name, tc := range map[string]struct {
		args      []string
		want, not []string
	}{
		"-d publisher":             {[]string{"-d", "publisher"}, []string{"publisher"}, []string{"console", "input"}},
		"-d console,publisher":     {[]string{"-d", "console,publisher"}, []string{"publisher", "console"}, []string{"input"}},
		"-d input -d console":      {[]string{"-d", "input", "-d", "console"}, []string{"input", "console"}, []string{"publisher"}},
		"-d *":                     {[]string{"-d", "*"}, []string{"publisher", "console", "input"}, nil},
		"logging.selectors":        {[]string{"-E", "logging.level=debug", "-E", "logging.selectors=[console]"}, []string{"console"}, []string{"publisher"}},
		"logging.level: debug all": {[]string{"-E", "logging.level=debug"}, []string{"publisher", "console"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := run(t, append([]string{"replay", sample}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			n := debugLoggers(logLines(t, stderr))
			for _, w := range tc.want {
				if n[w] == 0 {
					t.Errorf("no debug line from %s: %v", w, n)
				}
			}
			for _, w := range tc.not {
				if n[w] != 0 {
					t.Errorf("%d debug lines from unselected %s", n[w], w)
				}
			}
		})
	}
	_, stderr, _ = run(t, "replay", sample, "-E", "logging.selectors=[console]")
	if !strings.Contains(stderr, "apply only at logging.level: debug") {
		t.Errorf("selectors without debug level accepted silently: %s", stderr)
	}
}

// TestLogFilesAreECSJSON: by default logs go to rotating files in
// path.logs, one ECS JSON object a line, as Beats 8 write them.
func TestLogFilesAreECSJSON(t *testing.T) {
	home := t.TempDir()
	// run without inputs stops at once, after logging.
	_, stderr, code := run(t, "run", "--path.home", home)
	if code == 0 {
		t.Fatalf("run without inputs succeeded: %s", stderr)
	}
	files, _ := filepath.Glob(filepath.Join(home, "logs", "procbeat*"))
	if len(files) != 1 {
		t.Fatalf("log files %v in %s/logs", files, home)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := logLines(t, string(raw))
	if len(lines) == 0 || strings.Count(string(raw), "\n") != len(lines) {
		t.Fatalf("not one JSON object a line: %q", raw)
	}
	totals := 0
	for _, l := range lines {
		for _, k := range []string{"@timestamp", "log.level", "message", "ecs.version"} {
			if _, ok := l[k]; !ok {
				t.Errorf("line lacks %s: %v", k, l)
			}
		}
		if l["service.name"] != "procbeat" {
			t.Errorf("service.name %v", l["service.name"])
		}
		if _, ok := l["log.origin"].(map[string]any); !ok {
			t.Errorf("log.origin is not an ECS object: %v", l["log.origin"])
		}
		if l["message"] == "Total metrics" {
			totals++
		}
	}
	if totals != 1 {
		t.Errorf("%d Total metrics lines in the log file", totals)
	}
}

// TestClosingMetricsLine: a short replay ends with one "Total metrics"
// line (not "in the last 30s"), every time, whose totals are the run's.
func TestClosingMetricsLine(t *testing.T) {
	for i := range 6 {
		_, stderr, code := run(t, "replay", "../../testdata/sample/sample.xml")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if strings.Contains(stderr, "Non-zero metrics in the last") {
			t.Fatalf("run %d: a periodic line after a short run: %s", i, stderr)
		}
		var total map[string]any
		for _, l := range logLines(t, stderr) {
			if l["message"] == "Total metrics" {
				if total != nil {
					t.Fatalf("run %d: two Total metrics lines", i)
				}
				total = l
			}
		}
		if total == nil {
			t.Fatalf("run %d: no Total metrics line: %s", i, stderr)
		}
		get := func(path string) float64 {
			v, ok := lookup(total, "monitoring.metrics."+path)
			if !ok {
				t.Fatalf("run %d: Total metrics lacks %s: %v", i, path, total)
			}
			return v.(float64)
		}
		pub, acked := get("libbeat.pipeline.events.published"), get("libbeat.output.events.acked")
		if pub != 14 || acked != 14 || get("libbeat.pipeline.queue.acked") != 14 {
			t.Fatalf("run %d: published %v acked %v, want 14 and 14", i, pub, acked)
		}
	}
}

// lookup walks a dotted path through nested maps.
func lookup(m map[string]any, path string) (any, bool) {
	v, err := mapstr.M(m).GetValue(path)
	return v, err == nil
}

// gate blocks every write until opened: an output that holds a replay up.
type gate struct {
	open chan struct{}
	once sync.Once
}

func (g *gate) Write(p []byte) (int, error) {
	<-g.open
	return len(p), nil
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// TestStatsFromARunningReplay reads /stats and /state from a replay whose
// output is blocked, and checks the field names Metricbeat's beat module
// (stats and state metricsets) reads.
func TestStatsFromARunningReplay(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	out := &gate{open: make(chan struct{})}
	defer out.release()
	var errb syncBuffer
	root := newRoot()
	root.SetOut(out)
	root.SetErr(&errb)
	root.SetArgs([]string{"replay", "../../testdata/sample/sample.xml", "-E", "http.enabled=true", "-E", fmt.Sprintf("http.port=%d", port)})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(context.Background()) }()

	base := fmt.Sprintf("http://localhost:%d", port)
	var stats map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		stats = getJSON(base + "/stats")
		if v, _ := lookup(stats, "libbeat.pipeline.events.published"); v != nil && v.(float64) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no events published while the output is blocked: %v\n%s", stats, errb.String())
		}
	}
	for _, f := range []string{
		"beat.info.uptime.ms", "beat.info.ephemeral_id", "beat.memstats.gc_next", "beat.memstats.memory_alloc",
		"beat.memstats.memory_total", "beat.runtime.goroutines",
		"libbeat.output.type", "libbeat.output.events.acked", "libbeat.output.events.active", "libbeat.output.events.batches",
		"libbeat.output.events.dropped", "libbeat.output.events.duplicates", "libbeat.output.events.failed", "libbeat.output.events.total",
		"libbeat.output.write.bytes", "libbeat.output.write.errors",
		"libbeat.pipeline.clients", "libbeat.pipeline.events.active", "libbeat.pipeline.events.failed",
		"libbeat.pipeline.events.published", "libbeat.pipeline.events.retry", "libbeat.pipeline.events.total",
		"libbeat.pipeline.queue.acked", "libbeat.config.module.running", "system.cpu.cores",
		"procbeat.events_published", "procbeat.queue_depth",
	} {
		if _, ok := lookup(stats, f); !ok {
			t.Errorf("/stats lacks %s", f)
		}
	}
	if v, _ := lookup(stats, "libbeat.output.type"); v != "console" {
		t.Errorf("libbeat.output.type %v", v)
	}
	if v, _ := lookup(stats, "libbeat.pipeline.events.active"); v == nil || v.(float64) <= 0 {
		t.Errorf("nothing active while the output is blocked: %v", v)
	}
	state := getJSON(base + "/state")
	for _, f := range []string{"beat.name", "host.hostname", "host.architecture", "output.name", "queue.name", "service.id", "service.name", "service.version", "management.enabled"} {
		if _, ok := lookup(state, f); !ok {
			t.Errorf("/state lacks %s: %v", f, state)
		}
	}
	info := getJSON(base + "/")
	if info["beat"] != "procbeat" || info["uuid"] == nil || info["version"] == nil {
		t.Errorf("/ = %v", info)
	}
	out.release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("replay: %v\n%s", err, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("replay did not finish once the output was released")
	}
}

func getJSON(url string) map[string]any {
	res, err := http.Get(url)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(bufio.NewReader(res.Body)).Decode(&m); err != nil {
		_, _ = io.Copy(io.Discard, res.Body)
		return nil
	}
	return m
}
