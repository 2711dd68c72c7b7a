package wineventlog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/internal/utf16le"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/winevent"
)

const sysmon = "Microsoft-Windows-Sysmon/Operational"

// logRecorder keeps warnings for assertions.
type logRecorder struct {
	mu    sync.Mutex
	warns []string
}

func (l *logRecorder) Debugf(string, ...any) {}
func (l *logRecorder) Infof(string, ...any)  {}
func (l *logRecorder) Warnf(f string, a ...any) {
	l.mu.Lock()
	l.warns = append(l.warns, fmt.Sprintf(f, a...))
	l.mu.Unlock()
}
func (l *logRecorder) Errorf(f string, a ...any) { l.Warnf(f, a...) }
func (l *logRecorder) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.warns {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

type harness struct {
	f        *fakeLog
	src      *Source
	log      *logRecorder
	counters *monitoring.Counters
	errs     []*decode.RecordError
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	if cfg.Channel == "" {
		cfg.Channel = sysmon
	}
	cfg.BackoffInit, cfg.BackoffMax, cfg.WaitInterval = time.Millisecond, 4*time.Millisecond, time.Millisecond
	h := &harness{f: newFakeLog(cfg.Channel), log: &logRecorder{}, counters: &monitoring.Counters{}}
	var err error
	h.src, err = New(cfg, Options{API: h.f, Logger: h.log, Counters: h.counters,
		Decode: decode.Options{MaxRecordSize: 64 << 10, OnError: func(e *decode.RecordError) { h.errs = append(h.errs, e) }}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type got struct {
	id  uint64
	pos source.Position
	rec winevent.Record
}

// read opens at pos and reads n records (failing after a few seconds), then
// closes the reader.
func (h *harness) read(t *testing.T, pos source.Position, n int) []got {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := h.src.Open(ctx, pos)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []got
	for len(out) < n && r.Next(ctx) {
		rec := r.Record()
		out = append(out, got{id: rec.RecordID, pos: r.Position(), rec: *rec})
	}
	if len(out) < n {
		t.Fatalf("read %d records of %d (err %v)", len(out), n, r.Err())
	}
	return out
}

func ids(gs []got) []uint64 {
	var out []uint64
	for _, g := range gs {
		out = append(out, g.id)
	}
	return out
}

func seq(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestQueryIsWhatTheMappingWants(t *testing.T) {
	want := "*[System[(Provider[@Name='Microsoft-Windows-Sysmon'] and (EventID=1 or EventID=5 or EventID=10))" +
		" or (Provider[@Name='Microsoft-Windows-Security-Auditing'] and (EventID=4688 or EventID=4689))]]"
	if q := Query(false); q != want {
		t.Fatalf("query\n%s\nwant\n%s", q, want)
	}
	for _, images := range []bool{false, true} {
		wants := mapping.Wants
		if images {
			wants = mapping.WantsWithImages
		}
		in := func(p string, id uint16) bool {
			for _, w := range wanted(images) {
				if w.provider == p && slices.Contains(w.ids, id) {
					return true
				}
			}
			return false
		}
		for _, p := range []string{winevent.ProviderSysmon, winevent.ProviderSecurity, "Microsoft-Windows-PowerShell"} {
			for id := range 1 << 16 {
				if wants(p, uint16(id)) != in(p, uint16(id)) {
					t.Fatalf("images %v: %s %d: mapping %v, query %v", images, p, id, wants(p, uint16(id)), in(p, uint16(id)))
				}
			}
		}
	}
	if q := Query(true); !strings.Contains(q, "EventID=7 or") {
		t.Fatalf("image loads missing: %s", q)
	}
}

func TestBatchesAndPositions(t *testing.T) {
	h := newHarness(t, Config{BatchSize: 10})
	// Wanted and unwanted records interleaved: the query keeps the
	// unwanted ones from ever being rendered.
	for range 25 {
		h.f.write(1, winevent.ProviderSysmon, 1)
		h.f.write(1, winevent.ProviderSysmon, 3) // network connection: not mapped
	}
	gs := h.read(t, source.Position{}, 25)
	var want []uint64
	for i := uint64(1); i <= 50; i += 2 {
		want = append(want, i)
	}
	if !slices.Equal(ids(gs), want) {
		t.Fatalf("ids %v, want %v", ids(gs), want)
	}
	if h.f.query != Query(false) {
		t.Fatalf("subscribed with query %q", h.f.query)
	}
	if h.f.eventRenders != 25 {
		t.Fatalf("%d event renders, want 25 (unwanted events must not be rendered)", h.f.eventRenders)
	}
	// Batches of 10: the first batch renders a bookmark per record (no
	// bookmark to fall back on yet) plus its end; later batches one each.
	if h.f.bookmarkRends != 3+9 {
		t.Fatalf("%d bookmark renders, want 12", h.f.bookmarkRends)
	}
	for i, g := range gs {
		if g.pos.Offset != g.id || g.pos.Check != uint64(g.rec.TimeCreated.UnixNano()) {
			t.Fatalf("record %d: position %+v", g.id, g.pos)
		}
		var wantBM uint64
		switch {
		case i < 10:
			wantBM = g.id // per record
		case i%10 == 9 || i == len(gs)-1:
			wantBM = g.id // a batch's last record: its own bookmark
		default:
			wantBM = gs[i-i%10-1].id // the end of the previous batch
		}
		if !strings.Contains(g.pos.Bookmark, fmt.Sprintf("RecordId='%d'", wantBM)) {
			t.Fatalf("record %d (index %d): bookmark %q, want record %d", g.id, i, g.pos.Bookmark, wantBM)
		}
	}
	if h.f.open() != 0 {
		t.Fatalf("%d handles left open", h.f.open())
	}
	if h.src.ID() != "wineventlog:"+sysmon {
		t.Fatalf("ID %q", h.src.ID())
	}
}

// TestResumeAtEveryPosition is the exactly-once property: whichever record
// the output acknowledged last, reopening at its position delivers every
// later record once and none before it.
func TestResumeAtEveryPosition(t *testing.T) {
	h := newHarness(t, Config{BatchSize: 7})
	h.f.write(40, winevent.ProviderSecurity, 4688)
	all := h.read(t, source.Position{}, 40)
	for k, g := range all[:39] {
		rest := h.read(t, g.pos, 39-k)
		if want := seq(g.id+1, 40); !slices.Equal(ids(rest), want) {
			t.Fatalf("resumed after record %d (%+v): %v, want %v", g.id, g.pos, ids(rest), want)
		}
	}
	if h.counters.EventLogGaps.Load() != 0 {
		t.Fatal("a gap was counted on ordinary resumes")
	}
	for _, s := range h.f.subscribes[1:] {
		if s != StartAfterBookmark {
			t.Fatalf("resumed with %v, want after bookmark", s)
		}
	}
}

func TestStartAt(t *testing.T) {
	for _, tc := range []struct {
		startAt string
		want    []uint64
	}{
		{"", seq(1, 8)},
		{StartAtBeginning, seq(1, 8)},
		{StartAtNow, seq(6, 8)},
	} {
		h := newHarness(t, Config{StartAt: tc.startAt})
		h.f.write(5, winevent.ProviderSysmon, 5)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r, err := h.src.Open(ctx, source.Position{})
		if err != nil {
			t.Fatal(err)
		}
		h.f.write(3, winevent.ProviderSysmon, 5)
		var got []uint64
		for len(got) < len(tc.want) && r.Next(ctx) {
			got = append(got, r.Record().RecordID)
		}
		r.Close()
		cancel()
		if !slices.Equal(got, tc.want) {
			t.Fatalf("start_at %q: %v, want %v", tc.startAt, got, tc.want)
		}
	}
	if _, err := New(Config{Channel: "Security", StartAt: "yesterday"}, Options{API: newFakeLog("Security")}); err == nil || !strings.Contains(err.Error(), `start_at "yesterday"`) {
		t.Fatalf("bad start_at: %v", err)
	}
	if _, err := New(Config{Channel: "Security", BatchSize: 5000}, Options{API: newFakeLog("Security")}); err == nil || !strings.Contains(err.Error(), "batch_size 5000") {
		t.Fatalf("bad batch_size: %v", err)
	}
}

// TestBookmarkGone covers each way the service says a bookmark is gone:
// the log was rolled over, or the subscription fails with the stale or
// invalid position errors. The channel is read again from its oldest record
// and nothing delivered before is sent again.
func TestBookmarkGone(t *testing.T) {
	for _, tc := range []struct {
		name string
		gone func(f *fakeLog)
	}{
		{"rolled over (ERROR_NOT_FOUND)", func(f *fakeLog) { f.rollOver(12) }},
		{"ERROR_EVT_QUERY_RESULT_STALE", func(f *fakeLog) { f.subscribeErrs = []error{ErrEvtQueryResultStale} }},
		{"ERROR_EVT_QUERY_RESULT_INVALID_POSITION", func(f *fakeLog) { f.subscribeErrs = []error{ErrEvtQueryResultInvalidPos} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{BatchSize: 10})
			h.f.write(15, winevent.ProviderSysmon, 1)
			gs := h.read(t, source.Position{}, 15)
			// Acknowledged up to record 14: its bookmark is the end of
			// the first batch (record 10).
			pos := gs[13].pos
			if !strings.Contains(pos.Bookmark, "RecordId='10'") {
				t.Fatalf("position %+v", pos)
			}
			h.f.write(5, winevent.ProviderSysmon, 1)
			tc.gone(h.f)
			rest := h.read(t, pos, 6)
			if !slices.Equal(ids(rest), seq(15, 20)) {
				t.Fatalf("after the gap: %v, want 15-20", ids(rest))
			}
			if n := h.counters.EventLogGaps.Load(); n != 1 {
				t.Fatalf("%d gaps counted, want 1", n)
			}
			if !h.log.has("no longer in the log") || !h.log.has("up to record id 14") {
				t.Fatalf("gap not logged: %v", h.log.warns)
			}
			if last := h.f.subscribes[len(h.f.subscribes)-1]; last != StartAtOldest {
				t.Fatalf("resubscribed with %v, want the oldest record", last)
			}
		})
	}
}

// TestClearedLog: after a clear, record ids start again at 1. The new
// records are newer than the last delivered one, so the dedup by record id
// does not take them for old ones.
func TestClearedLog(t *testing.T) {
	h := newHarness(t, Config{BatchSize: 4, StartAt: StartAtNow})
	h.f.write(10, winevent.ProviderSecurity, 4688)
	h.f.write(3, winevent.ProviderSecurity, 4689)
	gs := h.read(t, source.Position{Offset: 9, Check: uint64(t0.Add(9 * time.Millisecond).UnixNano()), Bookmark: "<BookmarkList><Bookmark Channel='x' RecordId='9'/></BookmarkList>"}, 4)
	pos := gs[3].pos // record 13, the last delivered
	h.f.clear()
	h.f.write(6, winevent.ProviderSecurity, 4689)
	rest := h.read(t, pos, 6)
	if !slices.Equal(ids(rest), seq(1, 6)) {
		t.Fatalf("after the clear: %v, want 1-6", ids(rest))
	}
	if h.counters.EventLogGaps.Load() != 1 {
		t.Fatal("the clear was not counted as a gap")
	}
	// A restart right after the gap, before a batch completes, resumes
	// from the per-record bookmark, not from start_at (now).
	again := h.read(t, rest[1].pos, 4)
	if !slices.Equal(ids(again), seq(3, 6)) {
		t.Fatalf("restart after the gap: %v, want 3-6", ids(again))
	}
}

// TestStoredBookmarkUnreadable: a bookmark the service cannot parse is a
// gap too, not a failure of the input.
func TestStoredBookmarkUnreadable(t *testing.T) {
	h := newHarness(t, Config{})
	h.f.write(6, winevent.ProviderSysmon, 10)
	rest := h.read(t, source.Position{Offset: 3, Check: uint64(t0.Add(3 * time.Millisecond).UnixNano()), Bookmark: "<garbage/>"}, 3)
	if !slices.Equal(ids(rest), seq(4, 6)) || h.counters.EventLogGaps.Load() != 1 {
		t.Fatalf("got %v, %d gaps", ids(rest), h.counters.EventLogGaps.Load())
	}
}

func TestInvalidBoundHalvesTheBatch(t *testing.T) {
	h := newHarness(t, Config{BatchSize: 100})
	h.f.maxBatch = 30
	h.f.write(70, winevent.ProviderSysmon, 1)
	gs := h.read(t, source.Position{}, 70)
	if !slices.Equal(ids(gs), seq(1, 70)) {
		t.Fatalf("ids %v", ids(gs))
	}
	if h.f.nextSizes[0] != 100 || h.f.nextSizes[1] != 50 || h.f.nextSizes[2] != 25 || h.f.nextSizes[3] != 25 {
		t.Fatalf("EvtNext sizes %v, want 100, 50, 25, 25...", h.f.nextSizes)
	}
	if !h.log.has("asking for 25 records at a time") {
		t.Fatalf("not logged: %v", h.log.warns)
	}
	if h.counters.EventLogReopens.Load() != 0 {
		t.Fatal("halving reopened the subscription")
	}
}

func TestReopenAfterErrors(t *testing.T) {
	h := newHarness(t, Config{BatchSize: 5})
	h.f.write(12, winevent.ProviderSysmon, 1)
	// The first EvtNext succeeds, then the service goes away twice (the
	// second failure hits the reopen itself), then recovers.
	h.f.nextErrs = []error{nil, ErrRPCServerUnavailable}
	h.f.subscribeErrs = []error{nil, ErrRPCServerUnavailable}
	gs := h.read(t, source.Position{}, 12)
	if !slices.Equal(ids(gs), seq(1, 12)) {
		t.Fatalf("ids %v, want 1-12 once each", ids(gs))
	}
	if n := h.counters.EventLogReopens.Load(); n != 2 {
		t.Fatalf("%d reopens, want 2", n)
	}
	if !h.log.has("RPC_S_SERVER_UNAVAILABLE (1722); reopening in 1ms") || !h.log.has("reopening in 2ms") {
		t.Fatalf("backoff not logged as growing: %v", h.log.warns)
	}
	if h.f.open() != 0 {
		t.Fatalf("%d handles left open", h.f.open())
	}
}

func TestChannelThatDoesNotExist(t *testing.T) {
	h := newHarness(t, Config{Channel: "Microsoft-Windows-Sysmon/Operationa"})
	h.f.channel = sysmon
	_, err := h.src.Open(context.Background(), source.Position{})
	if err == nil || !strings.Contains(err.Error(), `channel "Microsoft-Windows-Sysmon/Operationa" does not exist`) || !errors.Is(err, ErrEvtChannelNotFound) {
		t.Fatalf("Open: %v", err)
	}
	if h.f.open() != 0 {
		t.Fatalf("%d handles left open", h.f.open())
	}
	// A channel that disappears while reading (Sysmon uninstalled) ends
	// the reader with the same error instead of retrying for ever.
	h2 := newHarness(t, Config{})
	h2.f.write(2, winevent.ProviderSysmon, 1)
	ctx := context.Background()
	r, err := h2.src.Open(ctx, source.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h2.f.nextErrs = []error{nil, ErrRPCServerUnavailable}
	h2.f.subscribeErrs = []error{ErrEvtChannelNotFound}
	n := 0
	for r.Next(ctx) {
		n++
	}
	if n != 2 || r.Err() == nil || !strings.Contains(r.Err().Error(), "does not exist") {
		t.Fatalf("read %d, err %v", n, r.Err())
	}
}

func TestRenderBufferGrows(t *testing.T) {
	h := newHarness(t, Config{})
	h.f.write(3, winevent.ProviderSysmon, 1)
	h.f.mu.Lock()
	h.f.recs[1].pad = 40 << 10 // 80 KiB of UTF-16, past the 16 KiB buffer
	h.f.mu.Unlock()
	gs := h.read(t, source.Position{}, 3)
	if !slices.Equal(ids(gs), seq(1, 3)) {
		t.Fatalf("ids %v", ids(gs))
	}
	if v, _ := gs[1].rec.Get("Padding"); len(v) != 40<<10 || !strings.HasSuffix(v, "ghij") {
		t.Fatalf("padding of %d bytes", len(v))
	}
	if v, _ := gs[0].rec.Get("Image"); v != `C:\Windows\System32\café.exe` {
		t.Fatalf("Image %q", v)
	}
	if h.f.shortRenders != 1 {
		t.Fatalf("%d short renders, want 1 (the buffer keeps its size)", h.f.shortRenders)
	}
}

func TestCutRenderAndOversizedEventAreErrors(t *testing.T) {
	h := newHarness(t, Config{})
	h.f.write(4, winevent.ProviderSysmon, 1)
	h.f.lie[2] = true
	h.f.mu.Lock()
	h.f.recs[2].pad = 100 << 10 // beyond MaxRecordSize (64 KiB)
	h.f.mu.Unlock()
	gs := h.read(t, source.Position{}, 2)
	if !slices.Equal(ids(gs), []uint64{1, 4}) {
		t.Fatalf("ids %v, want 1 and 4", ids(gs))
	}
	if len(h.errs) != 2 || !strings.Contains(h.errs[0].Error(), "cut short") || !strings.Contains(h.errs[1].Error(), "exceeds the 131074 byte limit") {
		t.Fatalf("errors %v", h.errs)
	}
	if !strings.Contains(h.errs[0].Error(), "wineventlog:"+sysmon+": record 2:") {
		t.Fatalf("error does not name the channel and record: %v", h.errs[0])
	}
}

func TestCancelWhileWaiting(t *testing.T) {
	h := newHarness(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	r, err := h.src.Open(ctx, source.Position{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	go func() { done <- r.Next(ctx) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case ok := <-done:
		if ok || r.Err() != nil {
			t.Fatalf("Next %v, err %v", ok, r.Err())
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next did not return after cancel")
	}
	// Cancelled during a backoff too.
	h.f.nextErrs = []error{ErrRPCServerUnavailable}
	ctx2, cancel2 := context.WithCancel(context.Background())
	r.(*reader).s.cfg.BackoffInit = time.Hour
	r.(*reader).backoff = time.Hour
	go func() { done <- r.Next(ctx2) }()
	time.Sleep(20 * time.Millisecond)
	cancel2()
	select {
	case ok := <-done:
		if ok {
			t.Fatal("Next returned a record")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next did not return after cancel during backoff")
	}
	r.Close()
	if h.f.open() != 0 {
		t.Fatalf("%d handles left open", h.f.open())
	}
}

// TestForwardedEventsKeepTheirComputer: on a WEF collector the record is
// the forwarded event's own XML; its Computer is the host it happened on.
func TestForwardedEventsKeepTheirComputer(t *testing.T) {
	h := newHarness(t, Config{Channel: "ForwardedEvents"})
	h.f.write(1, winevent.ProviderSysmon, 1)
	h.f.write(1, winevent.ProviderSecurity, 4688)
	h.f.mu.Lock()
	h.f.recs[0].computer = "ws7.corp.example"
	h.f.recs[1].computer = "dc1.corp.example"
	h.f.mu.Unlock()
	gs := h.read(t, source.Position{}, 2)
	if gs[0].rec.Computer != "ws7.corp.example" || gs[1].rec.Computer != "dc1.corp.example" || gs[1].rec.Channel != "ForwardedEvents" {
		t.Fatalf("records %+v", gs)
	}
}

func TestNotWindows(t *testing.T) {
	if _, err := systemAPI(); err == nil {
		t.Skip("this system has the Windows event log")
	}
	_, err := New(Config{Channel: "Security"}, Options{})
	if !errors.Is(err, ErrNotWindows) {
		t.Fatalf("New without an API off Windows: %v", err)
	}
}

func TestAppendUTF16LE(t *testing.T) {
	// "a", U+00E9, U+1F600 (a surrogate pair), an unpaired high surrogate,
	// then the terminator and garbage after it.
	in := []byte{'a', 0, 0xE9, 0, 0x3D, 0xD8, 0x00, 0xDE, 0x3D, 0xD8, 'b', 0, 0, 0, 'x', 0}
	if got := string(utf16le.Append(nil, in)); got != "a\u00e9\U0001F600\uFFFDb" {
		t.Fatalf("%q", got)
	}
}

// TestClearedAndRefilledLog: the log is cleared and refilled past the
// bookmarked record id while procbeat is stopped. The bookmark still
// resolves (to a new record with the same id), but the last delivered
// record, looked up by id, has another time: a gap, and every new record
// is delivered.
func TestClearedAndRefilledLog(t *testing.T) {
	h := newHarness(t, Config{BatchSize: 4})
	h.f.write(10, winevent.ProviderSecurity, 4688)
	gs := h.read(t, source.Position{}, 10)
	pos := gs[9].pos
	if !strings.Contains(pos.Bookmark, "RecordId='10'") {
		t.Fatalf("position %+v", pos)
	}
	h.f.clear()
	h.f.write(25, winevent.ProviderSecurity, 4689)
	rest := h.read(t, pos, 25)
	if !slices.Equal(ids(rest), seq(1, 25)) {
		t.Fatalf("after the clear: %v, want 1-25", ids(rest))
	}
	if h.counters.EventLogGaps.Load() != 1 || !h.log.has("record 10 is now an event of") {
		t.Fatalf("gaps %d, log %v", h.counters.EventLogGaps.Load(), h.log.warns)
	}
}

// TestVerificationOnResume: an ordinary resume checks the last delivered
// record once; a failed check (the service busy) does not stop the resume,
// a channel gone meanwhile does.
func TestVerificationOnResume(t *testing.T) {
	h := newHarness(t, Config{BatchSize: 4})
	h.f.write(10, winevent.ProviderSysmon, 1)
	gs := h.read(t, source.Position{}, 10)
	if h.f.queries != 0 {
		t.Fatalf("%d record queries on a fresh start", h.f.queries)
	}
	rest := h.read(t, gs[5].pos, 4)
	if !slices.Equal(ids(rest), seq(7, 10)) || h.f.queries != 1 || h.counters.EventLogGaps.Load() != 0 {
		t.Fatalf("resume: %v, %d queries, %d gaps", ids(rest), h.f.queries, h.counters.EventLogGaps.Load())
	}
	h.f.queryErrs = []error{ErrRPCServerUnavailable}
	rest = h.read(t, gs[5].pos, 4)
	if !slices.Equal(ids(rest), seq(7, 10)) || !h.log.has("cannot check that record 6 is still the one delivered") {
		t.Fatalf("resume after a failed check: %v, log %v", ids(rest), h.log.warns)
	}
	h.f.queryErrs = []error{ErrEvtChannelNotFound}
	if _, err := h.src.Open(context.Background(), gs[5].pos); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Open with the channel gone: %v", err)
	}
	if h.f.open() != 0 {
		t.Fatalf("%d handles left open", h.f.open())
	}
}
