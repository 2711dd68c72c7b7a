package elasticsearch_test

import (
	"context"
	"fmt"
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

// debugLogger keeps the debug lines.
type debugLogger struct {
	monitoring.NopLogger
	mu    sync.Mutex
	lines []string
}

func (l *debugLogger) Debugf(f string, a ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(f, a...))
	l.mu.Unlock()
}

// TestDebugLines: what a user debugging a delivery needs (-d
// elasticsearch): each bulk answer, each retry with its wait, each dead
// letter.
func TestDebugLines(t *testing.T) {
	var calls atomic.Int32
	log := &debugLogger{}
	out, err := elasticsearch.New(elasticsearch.TransportFunc(func(r *http.Request) (*http.Response, error) {
		_, _ = io.Copy(io.Discard, r.Body)
		if calls.Add(1) == 1 {
			return &http.Response{StatusCode: 503, Body: io.NopCloser(strings.NewReader("busy")), Header: http.Header{}}, nil
		}
		body := `{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"bad"}}}]}`
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}, nil
	}), fastConfig(filepath.Join(t.TempDir(), "dlq.ndjson")), nil, log)
	if err != nil {
		t.Fatal(err)
	}
	events := []pipeline.Event{makeEvent("s", 1), makeEvent("s", 2)}
	if err := out.Publish(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	out.Close()
	all := strings.Join(log.lines, "\n")
	for _, want := range []string{"retrying 2 documents in ", "bulk request of 2 documents answered: 0 to retry, 1 rejected",
		"dead letter: index=" + events[1].Index + " id=" + events[1].ID + " status 400 mapper_parsing_exception: bad"} {
		if !strings.Contains(all, want) {
			t.Errorf("no debug line %q in:\n%s", want, all)
		}
	}
}
