package elasticsearch_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/output/elasticsearch"
	"github.com/procbeat/procbeat/output/elasticsearch/esfake"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

// fastConfig keeps retries quick so fault-heavy tests finish in seconds.
func fastConfig(dlq string) elasticsearch.Config {
	cfg := elasticsearch.DefaultConfig()
	cfg.BulkMaxSize = 64
	cfg.FlushInterval = 5 * time.Millisecond
	cfg.Workers = 3
	cfg.Timeout = 150 * time.Millisecond
	cfg.Backoff = elasticsearch.Backoff{Init: time.Millisecond, Max: 20 * time.Millisecond}
	cfg.DeadLetterPath = dlq
	return cfg
}

type testLogger struct{ t testing.TB }

func (l testLogger) Debugf(f string, a ...any) {}
func (l testLogger) Infof(f string, a ...any)  { l.t.Logf("INFO "+f, a...) }
func (l testLogger) Warnf(f string, a ...any)  {}
func (l testLogger) Errorf(f string, a ...any) { l.t.Logf("ERROR "+f, a...) }

// TestDeliveryUnderFaults sends 3 sources through every injected fault and
// checks: each document stored exactly once, the dead-letter file holds
// exactly the rejected ones with their reasons, and (at every registry
// write, in checkingFS) no checkpoint passes an unacknowledged event.
func TestDeliveryUnderFaults(t *testing.T) {
	for _, clientRetry := range []bool{true, false} {
		t.Run(fmt.Sprintf("client_retry=%t", clientRetry), func(t *testing.T) {
			testDeliveryUnderFaults(t, clientRetry)
		})
	}
}

func testDeliveryUnderFaults(t *testing.T, clientRetry bool) {
	const perSource = 1500
	sources := []string{"evtx:aaaa", "evtx:bbbb", "live:Security"}
	reject := rejectEvery(37)
	fake := esfake.New(esfake.Faults{
		Seed:          1,
		RequestStatus: 0.08,
		DropBefore:    0.04,
		DropAfter:     0.04,
		Slow:          0.04,
		SlowDelay:     300 * time.Millisecond, // beyond the client timeout
		Item429:       0.05,
		Reject:        reject,
	})
	defer fake.Close()

	dir := t.TempDir()
	dlqPath := filepath.Join(dir, "dead-letter.ndjson")
	counters := &monitoring.Counters{}
	cfs := newCheckingFS(t, fake, reject, dlqPath)
	reg, err := registry.Open(filepath.Join(dir, "registry"), registry.Options{FS: cfs, Counters: counters})
	if err != nil {
		t.Fatal(err)
	}
	out, err := elasticsearch.New(newClientRetry(t, fake.URL, clientRetry), fastConfig(dlqPath), counters, testLogger{t})
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(context.Background(), out, reg, pipeline.Options{
		MaxBytesInFlight:     64 << 10, // small: producers feel backpressure
		CheckpointEveryBatch: true,
		Counters:             counters,
		Logger:               testLogger{t},
	})
	var wg sync.WaitGroup
	for _, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := p.Client(src)
			for off := uint64(1); off <= perSource; off++ {
				if err := c.Publish(context.Background(), makeEvent(src, off)); err != nil {
					t.Errorf("publish %s %d: %v", src, off, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := p.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	total := perSource * len(sources)
	wantRejected := map[string]bool{}
	for _, src := range sources {
		for off := uint64(1); off <= perSource; off++ {
			ev := makeEvent(src, off)
			if reject(ev.Index, ev.ID) {
				wantRejected[ev.ID] = true
				continue
			}
			body, ok := fake.Doc(ev.Index, ev.ID)
			if !ok {
				t.Errorf("lost: %s", ev.ID)
			} else if string(body) != string(ev.Body) {
				t.Errorf("%s stored with a different body", ev.ID)
			}
		}
	}
	if got, want := fake.Len(), total-len(wantRejected); got != want {
		t.Errorf("fake holds %d documents, want %d", got, want)
	}
	if st := fake.Stats(); st.Created != fake.Len() {
		t.Errorf("fake created %d documents for %d distinct ids", st.Created, fake.Len())
	}
	lines := readDLQ(t, dlqPath)
	seen := map[string]int{}
	for _, l := range lines {
		seen[l.ID]++
		if !wantRejected[l.ID] {
			t.Errorf("dead-letter holds %s, which was not rejected", l.ID)
		}
		if l.Status != 400 || l.Error.Type != "mapper_parsing_exception" || l.Error.Reason == "" || l.Index != testIndex {
			t.Errorf("dead-letter record %+v: want index, status 400 and mapper_parsing_exception with a reason", l)
		}
		var src string
		var off uint64
		if i := strings.LastIndexByte(l.ID, '-'); i > 0 {
			src = l.ID[:i]
			off, _ = strconv.ParseUint(l.ID[i+1:], 10, 64)
		}
		if ev := makeEvent(src, off); !bytes.Equal(l.Document, ev.Body) {
			t.Errorf("dead-letter record %s: document %s, want %s", l.ID, l.Document, ev.Body)
		}
	}
	for id := range wantRejected {
		if seen[id] != 1 {
			t.Errorf("dead-letter holds %s %d times, want once", id, seen[id])
		}
	}
	for _, src := range sources {
		pos, ok := reg.Position(src)
		if !ok || pos.Offset != perSource {
			t.Errorf("registry %s = %+v, want offset %d", src, pos, perSource)
		}
	}
	st := fake.Stats()
	s := counters.Snapshot()
	t.Logf("fake: %+v", st)
	t.Logf("counters: %s", monitoring.DeltaLine(monitoring.Snapshot{}, s))
	if s.EventsAcked != uint64(total) || s.EventsDeadLettered != uint64(len(wantRejected)) || s.EventsFailed != uint64(len(wantRejected)) {
		t.Errorf("counters acked %d dead-lettered %d failed %d, want %d %d %d",
			s.EventsAcked, s.EventsDeadLettered, s.EventsFailed, total, len(wantRejected), len(wantRejected))
	}
	if s.QueueDepth != 0 || s.BytesInFlight != 0 {
		t.Errorf("queue depth %d, bytes in flight %d after close; want 0", s.QueueDepth, s.BytesInFlight)
	}
	// Every fault must actually have happened, or the test proves little.
	if st.Status503 == 0 || st.Dropped == 0 || st.Slow == 0 || st.Throttled == 0 || st.Conflicts == 0 || st.GzipRequests != st.Requests {
		t.Errorf("faults not all exercised (or bodies not gzipped): %+v", st)
	}
	if st.MaxItems > 64 {
		t.Errorf("a bulk request carried %d items, above bulk_max_size 64", st.MaxItems)
	}
	if cfs.writes == 0 {
		t.Error("no registry write was checked")
	}
}

// TestItemRetryResendsOnlyFailedItems: with per-item 429s and no other
// fault, nothing is ever sent twice once stored, so there are no 409s, and
// the documents sent in total are the stored ones plus the 429s.
func TestItemRetryResendsOnlyFailedItems(t *testing.T) {
	fake := esfake.New(esfake.Faults{Seed: 7, Item429: 0.3})
	defer fake.Close()
	counters := &monitoring.Counters{}
	// fastConfig's 150 ms timeout is a fault of its own on a loaded
	// machine: a timed-out request is sent again, and its stored items
	// come back as 409s. This test injects 429s alone.
	cfg := fastConfig("")
	cfg.Timeout = time.Minute
	out, err := elasticsearch.New(newClient(t, fake.URL), cfg, counters, nil)
	if err != nil {
		t.Fatal(err)
	}
	events := make([]pipeline.Event, 500)
	for i := range events {
		events[i] = makeEvent("s", uint64(i+1))
	}
	if err := out.Publish(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	st := fake.Stats()
	if st.Created != len(events) || st.Conflicts != 0 {
		t.Errorf("created %d conflicts %d, want %d and 0", st.Created, st.Conflicts, len(events))
	}
	if st.Throttled == 0 || counters.EventsRetried.Load() != uint64(st.Throttled) {
		t.Errorf("throttled %d, retried %d: want equal and non-zero", st.Throttled, counters.EventsRetried.Load())
	}
}

// TestPublishStopsOnCancel: while Elasticsearch refuses everything, Publish
// keeps retrying and returns an error (nothing acknowledged) only when
// its context ends.
func TestPublishStopsOnCancel(t *testing.T) {
	fake := esfake.New(esfake.Faults{Seed: 3, RequestStatus: 1})
	defer fake.Close()
	out, err := elasticsearch.New(newClient(t, fake.URL), fastConfig(""), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = out.Publish(ctx, []pipeline.Event{makeEvent("s", 1)})
	if err == nil {
		t.Fatal("Publish returned nil while every request failed")
	}
	if st := fake.Stats(); st.Status503 < 3 {
		t.Errorf("only %d attempts in 200ms with 1-20ms backoff", st.Status503)
	}
	if fake.Len() != 0 {
		t.Errorf("fake stored %d documents", fake.Len())
	}
}
