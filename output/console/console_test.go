package console_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/output/console"
	"github.com/procbeat/procbeat/pipeline"
)

func TestWritesNDJSON(t *testing.T) {
	var buf bytes.Buffer
	out := console.New(&buf, console.DefaultConfig(), nil, nil)
	evs := []pipeline.Event{{Body: []byte(`{"a":1}`)}, {Body: []byte(`{"b":2}`)}}
	if err := out.Publish(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	// Flushed by the time Publish returns: nothing waits for Close.
	if buf.String() != "{\"a\":1}\n{\"b\":2}\n" {
		t.Fatalf("wrote %q", buf.String())
	}
}

// flaky fails its first n writes.
type flaky struct {
	n   int
	buf bytes.Buffer
}

func (f *flaky) Write(p []byte) (int, error) {
	if f.n > 0 {
		f.n--
		return 0, errors.New("broken pipe")
	}
	return f.buf.Write(p)
}

// A failed write is not acknowledged: Publish retries, and gives up only
// when its context ends.
func TestWriteFailureIsNotAcked(t *testing.T) {
	w := &flaky{n: 1000}
	out := console.New(w, console.DefaultConfig(), nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := out.Publish(ctx, []pipeline.Event{{Body: []byte(`{}`)}})
	if err == nil || !strings.Contains(err.Error(), "1 events unwritten") {
		t.Fatalf("Publish = %v, want an error", err)
	}
	w.n = 0
	if err := out.Publish(context.Background(), []pipeline.Event{{Body: []byte(`{"ok":1}`)}}); err != nil {
		t.Fatal(err)
	}
	if w.buf.String() != "{\"ok\":1}\n" {
		t.Fatalf("after recovery wrote %q", w.buf.String())
	}
}
