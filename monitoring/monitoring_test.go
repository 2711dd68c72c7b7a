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
func (l *memLogger) Warnf(string, ...any)  {}
func (l *memLogger) Errorf(string, ...any) {}

func TestLogPeriodically(t *testing.T) {
	var c monitoring.Counters
	log := &memLogger{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { monitoring.LogPeriodically(ctx, &c, log, 20*time.Millisecond); close(done) }()
	time.Sleep(70 * time.Millisecond) // quiet: nothing logged
	c.BulkRequests.Add(1)
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.lines) != 2 || !strings.Contains(log.lines[0], "bulk_requests=1") {
		t.Fatalf("logged %q, want a line with bulk_requests=1, then the totals", log.lines)
	}
	c.BulkRequests.Add(2)
	log.lines = nil
	log.mu.Unlock()
	ctx, cancel = context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() { monitoring.LogPeriodically(ctx, &c, log, time.Hour); close(done) }()
	c.BulkRequests.Add(4)
	cancel()
	<-done
	log.mu.Lock()
	// The closing line is the counters' total, not a last delta.
	if len(log.lines) != 1 || !strings.Contains(log.lines[0], "Total non-zero metrics") || !strings.Contains(log.lines[0], "bulk_requests=7") {
		t.Fatalf("closing line %q, want the totals (bulk_requests=7)", log.lines)
	}
}

func TestHTTPStats(t *testing.T) {
	var c monitoring.Counters
	c.EventsPublished.Add(42)
	if s, err := monitoring.Listen(monitoring.DefaultHTTPConfig(), &c); s != nil || err != nil {
		t.Fatalf("disabled endpoint: %v %v", s, err)
	}
	cfg := monitoring.DefaultHTTPConfig()
	cfg.Enabled, cfg.Port = true, 0
	s, err := monitoring.Listen(cfg, &c)
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
	res, err := http.Get("http://" + s.Addr() + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	var snap monitoring.Snapshot
	if err := json.NewDecoder(res.Body).Decode(&snap); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if snap.EventsPublished != 42 {
		t.Errorf("stats %+v", snap)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
