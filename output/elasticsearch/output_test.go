package elasticsearch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/output/elasticsearch"
	"github.com/procbeat/procbeat/pipeline"
)

func okResponse(n int) *http.Response {
	items := strings.Repeat(`{"create":{"status":201}},`, n)
	body := `{"errors":true,"items":[` + strings.TrimSuffix(items, ",") + `]}`
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}
}

// On 413 the batch is split in halves until it fits; a single document
// still too large is dead-lettered with status 413.
func TestTooLargeSplits(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	dlq := filepath.Join(t.TempDir(), "dlq.ndjson")
	c := &monitoring.Counters{}
	out, err := elasticsearch.New(elasticsearch.TransportFunc(func(r *http.Request) (*http.Response, error) {
		body := gunzip(t, r)
		n := bytes.Count(body, []byte("\n")) / 2
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
		if n > 3 || bytes.Contains(body, []byte("huge")) {
			return &http.Response{StatusCode: 413, Body: io.NopCloser(strings.NewReader("too large")), Header: http.Header{}}, nil
		}
		return okResponse(n), nil
	}), fastConfig(dlq), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	var events []pipeline.Event
	for i := uint64(1); i <= 10; i++ {
		events = append(events, makeEvent("s", i))
	}
	events[4].Body = []byte(`{"huge":true}`)
	if err := out.Publish(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readDLQ(t, dlq)
	if len(lines) != 1 || lines[0].ID != events[4].ID || lines[0].Status != 413 {
		t.Fatalf("dead letters %+v, want only %s with 413", lines, events[4].ID)
	}
	if c.EventsDeadLettered.Load() != 1 {
		t.Errorf("dead-lettered counter %d", c.EventsDeadLettered.Load())
	}
	if sizes[0] != 10 {
		t.Errorf("first request had %d documents", sizes[0])
	}
}

func gunzip(t *testing.T, r *http.Request) []byte {
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		t.Error(err)
		return nil
	}
	b, _ := io.ReadAll(zr)
	return b
}

// A document with a raw newline would corrupt the NDJSON body: it is
// dead-lettered up front and the rest of the batch is delivered.
func TestRawNewlineDeadLettered(t *testing.T) {
	var sent atomic.Int64
	dlq := filepath.Join(t.TempDir(), "dlq.ndjson")
	out, err := elasticsearch.New(elasticsearch.TransportFunc(func(r *http.Request) (*http.Response, error) {
		n := bytes.Count(gunzip(t, r), []byte("\n")) / 2
		sent.Add(int64(n))
		return okResponse(n), nil
	}), fastConfig(dlq), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	events := []pipeline.Event{makeEvent("s", 1), makeEvent("s", 2), makeEvent("s", 3)}
	events[1].Body = []byte("{\"a\":\n1}")
	if err := out.Publish(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	lines := readDLQ(t, dlq)
	if len(lines) != 1 || lines[0].ID != events[1].ID || lines[0].Error.Type != "invalid_document" {
		t.Fatalf("dead letters %+v", lines)
	}
	if sent.Load() != 2 {
		t.Errorf("sent %d documents, want 2", sent.Load())
	}
}

// Auth failures are not transient by nature but must not lose data: they
// are retried (and logged as errors) until the cluster accepts.
func TestUnauthorizedRetriedNotDropped(t *testing.T) {
	var calls atomic.Int64
	log := &countLogger{}
	out, err := elasticsearch.New(elasticsearch.TransportFunc(func(r *http.Request) (*http.Response, error) {
		n := bytes.Count(gunzip(t, r), []byte("\n")) / 2
		if calls.Add(1) <= 3 {
			return &http.Response{StatusCode: 401, Body: io.NopCloser(strings.NewReader(`{"error":"unauthorized"}`)), Header: http.Header{}}, nil
		}
		return okResponse(n), nil
	}), fastConfig(""), nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Publish(context.Background(), []pipeline.Event{makeEvent("s", 1)}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 4 || log.errors.Load() != 3 {
		t.Errorf("calls %d, error logs %d; want 4 and 3", calls.Load(), log.errors.Load())
	}
}

type countLogger struct{ errors atomic.Int64 }

func (l *countLogger) Debugf(string, ...any) {}
func (l *countLogger) Infof(string, ...any)  {}
func (l *countLogger) Warnf(string, ...any)  {}
func (l *countLogger) Errorf(string, ...any) { l.errors.Add(1) }
