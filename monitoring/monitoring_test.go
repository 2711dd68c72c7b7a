package monitoring_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/elastic-agent-libs/mapstr"

	"github.com/procbeat/procbeat/monitoring"
)

func TestDeltaLineOnlyChanges(t *testing.T) {
	var c monitoring.Counters
	prev := c.Snapshot()
	if got := monitoring.DeltaLine(prev, c.Snapshot()); got != "" {
		t.Fatalf("quiet period logged %q", got)
	}
	c.EventsAcked.Add(5)
	c.QueueDepth.Add(3)
	mid := c.Snapshot()
	if got := monitoring.DeltaLine(prev, mid); got != "events_acked=5 queue_depth=3" {
		t.Fatalf("got %q", got)
	}
	c.EventsAcked.Add(2)
	c.QueueDepth.Add(-1)
	if got := monitoring.DeltaLine(mid, c.Snapshot()); got != "events_acked=2 queue_depth=2" {
		t.Fatalf("counters as deltas, gauges as values: got %q", got)
	}
}

type memLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *memLogger) Infof(f string, a ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(f, a...))
	l.mu.Unlock()
}
func (l *memLogger) Debugf(string, ...any) {}
func (l *memLogger) Warnf(string, ...any)  {}
func (l *memLogger) Errorf(string, ...any) {}

func (l *memLogger) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// metricsOf decodes the monitoring object of a metrics line logged as
// "<message> <json>" by a plain Logger.
func metricsOf(t *testing.T, line, prefix string) map[string]any {
	t.Helper()
	rest, ok := strings.CutPrefix(line, prefix+" ")
	if !ok {
		t.Fatalf("line %q does not start with %q", line, prefix)
	}
	var obj struct {
		Metrics map[string]any `json:"metrics"`
		ECS     string         `json:"ecs.version"`
	}
	if err := json.Unmarshal([]byte(rest), &obj); err != nil || obj.ECS == "" {
		t.Fatalf("monitoring object %q: %v", rest, err)
	}
	return obj.Metrics
}

// lookup walks a dotted path through nested maps.
func lookup(m map[string]any, path string) (any, bool) {
	v, err := mapstr.M(m).GetValue(path)
	return v, err == nil
}

func TestReporterPeriodicAndTotals(t *testing.T) {
	var c monitoring.Counters
	m := monitoring.NewMetrics(&c, monitoring.Info{Name: "h", Version: "1", Output: "console", Start: time.Now()})
	log := &memLogger{}
	c.EventsPublished.Add(10)
	c.EventsAcked.Add(4)
	c.QueueDepth.Add(6)
	r := monitoring.StartReporter(context.Background(), m, log, 30*time.Millisecond)
	// waitLines waits for n lines: ticks come late on a loaded machine.
	waitLines := func(n int) {
		for deadline := time.Now().Add(10 * time.Second); len(log.all()) < n; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("lines %q: want %d", log.all(), n)
			}
		}
	}
	waitLines(1)
	c.EventsAcked.Add(6)
	c.QueueDepth.Add(-6)
	// The change shows in the next period's line (or the one after, if it
	// came while a line was being collected).
	n := len(log.all())
	waitLines(n + 2)
	r.Stop()
	lines := log.all()
	first := metricsOf(t, lines[0], "Non-zero metrics in the last 30ms")
	if v, _ := lookup(first, "libbeat.pipeline.events.published"); v != float64(10) {
		t.Errorf("first period published %v, want 10: %v", v, first)
	}
	acked := 0.0
	for _, line := range lines[1 : len(lines)-2] {
		later := metricsOf(t, line, "Non-zero metrics in the last 30ms")
		if v, ok := lookup(later, "libbeat.pipeline.events.published"); ok {
			t.Errorf("unchanged counter reported in a later period: %v", v)
		}
		if v, ok := lookup(later, "libbeat.pipeline.queue.acked"); ok {
			acked += v.(float64)
		}
		if _, ok := lookup(later, "beat.info.uptime.ms"); !ok {
			t.Errorf("gauge beat.info.uptime.ms missing: %v", later)
		}
	}
	if acked != 6 {
		t.Errorf("later periods acked %v in all, want the delta 6", acked)
	}
	total := metricsOf(t, lines[len(lines)-2], "Total metrics")
	for path, want := range map[string]float64{
		"libbeat.pipeline.events.published": 10, "libbeat.pipeline.queue.acked": 10,
		"libbeat.output.events.acked": 10, "procbeat.events_published": 10,
	} {
		if v, _ := lookup(total, path); v != want {
			t.Errorf("total %s = %v, want %v", path, v, want)
		}
	}
	if !strings.HasPrefix(lines[len(lines)-1], "Uptime: ") {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
}

// TestReporterStopLogsTotalsOfAShortRun is the closing line of a run far
// shorter than the period: totals, not "last 30s", and always there.
func TestReporterStopLogsTotalsOfAShortRun(t *testing.T) {
	var c monitoring.Counters
	m := monitoring.NewMetrics(&c, monitoring.Info{Start: time.Now()})
	log := &memLogger{}
	r := monitoring.StartReporter(context.Background(), m, log, 0)
	c.EventsPublished.Add(3)
	c.EventsAcked.Add(3)
	r.Stop()
	lines := log.all()
	if len(lines) != 2 || strings.Contains(lines[0], "last") {
		t.Fatalf("lines %q, want the totals and the uptime only", lines)
	}
	if v, _ := lookup(metricsOf(t, lines[0], "Total metrics"), "libbeat.output.events.acked"); v != float64(3) {
		t.Errorf("acked %v", v)
	}
}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return m
}

// BeatsStatsFields are the /stats fields Metricbeat's beat module (stats
// metricset) and Stack Monitoring read.
var beatsStatsFields = []string{
	"beat.info.uptime.ms", "beat.info.ephemeral_id", "beat.info.version",
	"beat.memstats.gc_next", "beat.memstats.memory_alloc", "beat.memstats.memory_total",
	"beat.runtime.goroutines", "beat.cpu.total.ticks", "beat.cpu.user.time.ms",
	"libbeat.output.type", "libbeat.output.events.acked", "libbeat.output.events.active",
	"libbeat.output.events.batches", "libbeat.output.events.dropped", "libbeat.output.events.duplicates",
	"libbeat.output.events.failed", "libbeat.output.events.total",
	"libbeat.output.write.bytes", "libbeat.output.write.errors",
	"libbeat.pipeline.clients", "libbeat.pipeline.events.active", "libbeat.pipeline.events.failed",
	"libbeat.pipeline.events.published", "libbeat.pipeline.events.retry", "libbeat.pipeline.events.total",
	"libbeat.pipeline.queue.acked", "libbeat.config.module.running",
	"system.cpu.cores",
}

// BeatsStateFields are what the beat module's state metricset reads.
var beatsStateFields = []string{
	"beat.name", "host.architecture", "host.hostname", "host.os.platform", "management.enabled",
	"module.count", "output.name", "queue.name", "service.id", "service.name", "service.version",
}

func TestHTTPStatsStateInfo(t *testing.T) {
	var c monitoring.Counters
	c.EventsPublished.Add(42)
	c.EventsAcked.Add(40)
	c.EventsFailed.Add(1)
	c.QueueDepth.Add(2)
	m := monitoring.NewMetrics(&c, monitoring.Info{Name: "h1", Hostname: "h1", UUID: "u-1", EphemeralID: "e-1", Version: "9.9.9", Output: "elasticsearch", Start: time.Now()})
	if s, err := monitoring.Listen(monitoring.DefaultHTTPConfig(), m, monitoring.NopLogger{}); s != nil || err != nil {
		t.Fatalf("disabled endpoint: %v %v", s, err)
	}
	cfg := monitoring.DefaultHTTPConfig()
	cfg.Enabled, cfg.Port = true, 0
	s, err := monitoring.Listen(cfg, m, monitoring.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ := net.SplitHostPort(s.Addr())
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Errorf("default bind %s is not loopback", s.Addr())
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx) }()
	base := "http://" + s.Addr()
	var stats map[string]any
	for deadline := time.Now().Add(5 * time.Second); ; {
		if res, err := http.Get(base + "/stats"); err == nil {
			res.Body.Close()
			break
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stats = getJSON(t, base+"/stats")
	for _, f := range beatsStatsFields {
		if _, ok := lookup(stats, f); !ok {
			t.Errorf("/stats lacks %s", f)
		}
	}
	for path, want := range map[string]any{
		"libbeat.pipeline.events.published": float64(42), "libbeat.pipeline.queue.acked": float64(40),
		"libbeat.output.events.acked": float64(39), "libbeat.output.events.dropped": float64(1),
		"libbeat.output.events.total": float64(42), "libbeat.output.type": "elasticsearch",
		"procbeat.events_published": float64(42), "procbeat.queue_depth": float64(2),
	} {
		if v, _ := lookup(stats, path); v != want {
			t.Errorf("/stats %s = %v, want %v", path, v, want)
		}
	}
	state := getJSON(t, base+"/state")
	for _, f := range beatsStateFields {
		if _, ok := lookup(state, f); !ok {
			t.Errorf("/state lacks %s: %v", f, state)
		}
	}
	if v, _ := lookup(state, "output.name"); v != "elasticsearch" {
		t.Errorf("/state output.name %v", v)
	}
	info := getJSON(t, base+"/")
	for k, want := range map[string]string{"beat": "procbeat", "name": "h1", "hostname": "h1", "uuid": "u-1", "version": "9.9.9"} {
		if info[k] != want {
			t.Errorf("/ %s = %v, want %s", k, info[k], want)
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
