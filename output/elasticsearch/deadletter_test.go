package elasticsearch_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/output/elasticsearch"
	"github.com/procbeat/procbeat/pipeline"
)

func itemsResponse(items ...string) *http.Response {
	body := `{"errors":true,"items":[` + strings.Join(items, ",") + `]}`
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}
}

// A write block (index.blocks.write, read_only_allow_delete) clears when it
// is lifted: its items are retried like 429s and never dead-lettered.
func TestBlockedItemsRetriedNotDeadLettered(t *testing.T) {
	blocks := []string{
		`{"create":{"status":403,"error":{"type":"cluster_block_exception","reason":"index [.ds-logs-x] blocked by: [FORBIDDEN/8/index write (api)];"}}}`,
		`{"create":{"status":429,"error":{"type":"cluster_block_exception","reason":"index [x] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];"}}}`,
		`{"create":{"status":403,"error":{"type":"index_create_block_exception","reason":"blocked by: [FORBIDDEN/12/index read_only_allow_delete (api)];"}}}`,
	}
	for _, block := range blocks {
		var calls atomic.Int64
		dlq := filepath.Join(t.TempDir(), "dlq.ndjson")
		c := &monitoring.Counters{}
		out, err := elasticsearch.New(elasticsearch.TransportFunc(func(r *http.Request) (*http.Response, error) {
			n := bytes.Count(gunzip(t, r), []byte("\n")) / 2
			if calls.Add(1) <= 3 {
				items := make([]string, n)
				for i := range items {
					items[i] = block
				}
				return itemsResponse(items...), nil
			}
			return okResponse(n), nil
		}), fastConfig(dlq), c, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := out.Publish(context.Background(), []pipeline.Event{makeEvent("s", 1), makeEvent("s", 2)}); err != nil {
			t.Fatal(err)
		}
		if lines := readDLQ(t, dlq); len(lines) != 0 || c.EventsDeadLettered.Load() != 0 || c.EventsFailed.Load() != 0 {
			t.Errorf("%s: dead-lettered %d (file %d lines), failed %d; want none", block, c.EventsDeadLettered.Load(), len(lines), c.EventsFailed.Load())
		}
		if calls.Load() != 4 {
			t.Errorf("%s: %d requests, want 4 (3 blocked, 1 accepted)", block, calls.Load())
		}
	}
}

const mappingError = `{"create":{"status":400,"error":{"type":"document_parsing_exception","reason":"failed to parse field [process.pid] of type [long]"}}}`

func rejectAll(t *testing.T) elasticsearch.TransportFunc {
	return func(r *http.Request) (*http.Response, error) {
		n := bytes.Count(gunzip(t, r), []byte("\n")) / 2
		items := make([]string, n)
		for i := range items {
			items[i] = mappingError
		}
		return itemsResponse(items...), nil
	}
}

// Past dead_letter_max_bytes, rejected documents are not acknowledged
// (Publish fails, nothing is lost) and Close says why.
func TestDeadLetterCap(t *testing.T) {
	dlq := filepath.Join(t.TempDir(), "dlq.ndjson")
	cfg := fastConfig(dlq)
	cfg.DeadLetterMaxBytes = 1500
	c := &monitoring.Counters{}
	out, err := elasticsearch.New(rejectAll(t), cfg, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	// One record is about 500 bytes: the first batch fits, the second not.
	if err := out.Publish(context.Background(), []pipeline.Event{makeEvent("s", 1), makeEvent("s", 2)}); err != nil {
		t.Fatal(err)
	}
	err = out.Publish(context.Background(), []pipeline.Event{makeEvent("s", 3), makeEvent("s", 4)})
	if !errors.Is(err, elasticsearch.ErrDeadLetterFull) {
		t.Fatalf("publish past the cap: %v, want ErrDeadLetterFull", err)
	}
	if got := c.EventsDeadLettered.Load(); got != 2 {
		t.Errorf("dead-lettered %d, want 2", got)
	}
	if lines := readDLQ(t, dlq); len(lines) != 2 {
		t.Errorf("file holds %d records, want 2", len(lines))
	}
	cerr := out.Close()
	if cerr == nil || !strings.Contains(cerr.Error(), "dead_letter_max_bytes (1500)") || !strings.Contains(cerr.Error(), "procbeat replay "+dlq) {
		t.Errorf("close: %v; want the cap and how to re-ship named", cerr)
	}
}

// Records written by the output read back with their index, id and the
// document byte for byte, and the file is recognised by its content.
func TestDeadLetterRoundTrip(t *testing.T) {
	dlq := filepath.Join(t.TempDir(), "dlq.ndjson")
	out, err := elasticsearch.New(rejectAll(t), fastConfig(dlq), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	events := []pipeline.Event{makeEvent("s", 1), makeEvent("s", 2), makeEvent("s", 3)}
	if err := out.Publish(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(dlq)
	if err != nil {
		t.Fatal(err)
	}
	if !elasticsearch.IsDeadLetter(data) {
		t.Fatalf("not recognised: %.100s", data)
	}
	r := elasticsearch.NewDeadLetterReader(bytes.NewReader(data))
	var i int
	for r.Next() {
		rec := r.Record()
		if rec.Index != events[i].Index || rec.ID != events[i].ID || !bytes.Equal(rec.Body(), events[i].Body) || rec.Status != 400 {
			t.Errorf("record %d: %s %s %d %s", i, rec.Index, rec.ID, rec.Status, rec.Body())
		}
		i++
	}
	if r.Err() != nil || i != len(events) {
		t.Fatalf("read %d records: %v", i, r.Err())
	}
}

func TestIsDeadLetter(t *testing.T) {
	for head, want := range map[string]bool{
		`{"procbeat_dead_letter":1,"@timestamp":"x"`: true,
		// The layout written before the marker existed.
		`{"@timestamp":"2026-11-22T20:00:00Z","index":"logs-endpoint.events.process-default","id":"abc","status":400,"error":{"type":"x"`: true,
		`{"@timestamp":"2026-11-22T20:00:00Z","event":{"kind":"event"}}`:                                                                  false,
		`{"Event":{"System":{}}}`:       false,
		`procbeat_dead_letter`:          false,
		"\n{\"procbeat_dead_letter\":1": false,
	} {
		if got := elasticsearch.IsDeadLetter([]byte(head)); got != want {
			t.Errorf("IsDeadLetter(%q) = %v, want %v", head, got, want)
		}
	}
}

func TestDeadLetterReaderErrors(t *testing.T) {
	for in, want := range map[string]string{
		"{\"procbeat_dead_letter\":1,\"index\":\"i\",\"id\":\"a\",\"document\":{}}\nnot json\n": "line 2: not a dead-letter record",
		`{"procbeat_dead_letter":1,"index":"i","document":{}}`:                                  "line 1: dead-letter record without id",
		`{"procbeat_dead_letter":1,"index":"i","id":"a"}`:                                       "line 1: dead-letter record a without document",
	} {
		r := elasticsearch.NewDeadLetterReader(strings.NewReader(in))
		for r.Next() {
		}
		if r.Err() == nil || !strings.Contains(r.Err().Error(), want) {
			t.Errorf("%q: %v, want %q", in, r.Err(), want)
		}
	}
}
