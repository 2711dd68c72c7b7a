package wineventlog

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"
	"unicode/utf16"
)

// fakeLog is a scripted event log channel behind the API interface: records
// are appended, cleared or rolled over by the test, errors are queued per
// call, and every handle is tracked so that leaks show.
type fakeLog struct {
	mu      sync.Mutex
	channel string
	query   string
	recs    []fakeRecord
	seq     uint64 // write sequence, never reset (a clear keeps counting)
	handles map[Handle]fakeHandle
	nextH   Handle

	maxBatch int // EvtNext larger than this fails with RPC_S_INVALID_BOUND

	// Scripted failures, consumed in order; nil entries succeed.
	subscribeErrs []error
	nextErrs      []error
	queryErrs     []error
	// lie makes the render of these record ids claim success with a cut
	// text (what winlogbeat #41245 ran into).
	lie map[uint64]bool

	// What happened.
	subscribes    []Start
	eventRenders  int // successful event renders
	shortRenders  int // renders answered ERROR_INSUFFICIENT_BUFFER
	bookmarkRends int
	nextSizes     []int
	queries       int
}

type fakeRecord struct {
	seq      uint64
	id       uint64
	provider string
	eventID  uint16
	time     time.Time
	computer string
	pad      int // bytes of padding data, to grow an event
}

type fakeHandle struct {
	bookmark bool
	rec      fakeRecord // an event's record, a bookmark's position (id 0: none)
}

func newFakeLog(channel string) *fakeLog {
	return &fakeLog{channel: channel, handles: map[Handle]fakeHandle{}, maxBatch: MaxBatchSize, lie: map[uint64]bool{}}
}

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// add appends records with the next ids; every third is a wanted Sysmon
// event unless all is set.
func (f *fakeLog) write(n int, provider string, eventID uint16) []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []uint64
	for range n {
		var id uint64 = 1
		if len(f.recs) > 0 {
			id = f.recs[len(f.recs)-1].id + 1
		}
		f.seq++
		f.recs = append(f.recs, fakeRecord{seq: f.seq, id: id, provider: provider, eventID: eventID,
			time: t0.Add(time.Duration(f.seq) * time.Millisecond), computer: "ws1.corp.example"})
		ids = append(ids, id)
	}
	return ids
}

// clear empties the channel; record ids start again at 1.
func (f *fakeLog) clear() {
	f.mu.Lock()
	f.recs = nil
	f.mu.Unlock()
}

// rollOver drops the records with ids up to id, as a full log overwriting
// its oldest records does.
func (f *fakeLog) rollOver(id uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.recs) > 0 && f.recs[0].id <= id {
		f.recs = f.recs[1:]
	}
}

func (f *fakeLog) newHandle(h fakeHandle) Handle {
	f.nextH++
	f.handles[f.nextH] = h
	return f.nextH
}

func (f *fakeLog) open() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.handles)
}

func pop(errs *[]error) error {
	if len(*errs) == 0 {
		return nil
	}
	err := (*errs)[0]
	*errs = (*errs)[1:]
	return err
}

func (f *fakeLog) wanted(r fakeRecord) bool {
	for _, w := range wanted(false) {
		for _, id := range w.ids {
			if r.provider == w.provider && r.eventID == id {
				return true
			}
		}
	}
	return false
}

func (f *fakeLog) Subscribe(channel, query string, start Start, bookmark Handle) (Subscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subscribes = append(f.subscribes, start)
	if err := pop(&f.subscribeErrs); err != nil {
		return nil, err
	}
	if channel != f.channel {
		return nil, ErrEvtChannelNotFound
	}
	f.query = query
	s := &fakeSub{f: f}
	switch start {
	case StartAtOldest:
	case StartFuture:
		s.after = f.seq
	case StartAfterBookmark:
		bm, ok := f.handles[bookmark]
		if !ok || !bm.bookmark || bm.rec.id == 0 {
			return nil, ErrInvalidParameter
		}
		found := false
		for _, r := range f.recs {
			if r.id == bm.rec.id {
				s.after, found = r.seq, true
			}
		}
		if !found {
			return nil, ErrNotFound
		}
	}
	f.nextH++
	f.handles[f.nextH] = fakeHandle{}
	s.h = f.nextH
	return s, nil
}

func (f *fakeLog) QueryRecord(channel string, id uint64) (Handle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries++
	if err := pop(&f.queryErrs); err != nil {
		return 0, err
	}
	if channel != f.channel {
		return 0, ErrEvtChannelNotFound
	}
	for _, r := range f.recs {
		if r.id == id {
			return f.newHandle(fakeHandle{rec: r}), nil
		}
	}
	return 0, nil
}

var bookmarkRE = regexp.MustCompile(`RecordId='(\d+)'`)

func (f *fakeLog) CreateBookmark(xml string) (Handle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := fakeHandle{bookmark: true}
	if xml != "" {
		m := bookmarkRE.FindStringSubmatch(xml)
		if m == nil {
			return 0, ErrEvtMalformedXMLText
		}
		h.rec.id, _ = strconv.ParseUint(m[1], 10, 64)
	}
	return f.newHandle(h), nil
}

func (f *fakeLog) UpdateBookmark(bookmark, event Handle) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	bm, ok1 := f.handles[bookmark]
	ev, ok2 := f.handles[event]
	if !ok1 || !ok2 || !bm.bookmark || ev.bookmark {
		return ErrInvalidParameter
	}
	bm.rec = ev.rec
	f.handles[bookmark] = bm
	return nil
}

func (f *fakeLog) Close(h Handle) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.handles[h]; !ok {
		return ErrInvalidParameter
	}
	delete(f.handles, h)
	return nil
}

func (f *fakeLog) RenderXML(h Handle, bookmark bool, buf []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fh, ok := f.handles[h]
	if !ok || fh.bookmark != bookmark {
		return 0, ErrInvalidParameter
	}
	var text string
	if bookmark {
		text = fmt.Sprintf("<BookmarkList>\r\n  <Bookmark Channel='%s' RecordId='%d' IsCurrent='true'/>\r\n</BookmarkList>", f.channel, fh.rec.id)
	} else {
		text = eventXML(f.channel, fh.rec)
	}
	u := utf16.Encode([]rune(text + "\x00"))
	need := 2 * len(u)
	if !bookmark && f.lie[fh.rec.id] {
		// Success, but the text stops short of its end and of the
		// terminator.
		n := min(len(buf), need/2)
		for i := 0; i < n/2; i++ {
			buf[2*i], buf[2*i+1] = byte(u[i]), byte(u[i]>>8)
		}
		return n &^ 1, nil
	}
	if need > len(buf) {
		if !bookmark {
			f.shortRenders++
		}
		return need, ErrInsufficientBuffer
	}
	for i, c := range u {
		buf[2*i], buf[2*i+1] = byte(c), byte(c>>8)
	}
	if bookmark {
		f.bookmarkRends++
	} else {
		f.eventRenders++
	}
	return need, nil
}

func eventXML(channel string, r fakeRecord) string {
	pad := ""
	if r.pad > 0 {
		b := make([]byte, r.pad)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		pad = "<Data Name='Padding'>" + string(b) + "</Data>"
	}
	return fmt.Sprintf("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='%s'/><EventID>%d</EventID>"+
		"<TimeCreated SystemTime='%s'/><EventRecordID>%d</EventRecordID><Channel>%s</Channel><Computer>%s</Computer></System>"+
		"<EventData><Data Name='ProcessId'>%d</Data><Data Name='Image'>C:\\Windows\\System32\\caf\u00e9.exe</Data>%s</EventData></Event>",
		r.provider, r.eventID, r.time.Format(time.RFC3339Nano), r.id, channel, r.computer, 1000+r.id, pad)
}

type fakeSub struct {
	f     *fakeLog
	h     Handle
	after uint64 // write sequence of the last record handed out
}

func (s *fakeSub) Next(events []Handle) (int, error) {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextSizes = append(f.nextSizes, len(events))
	if err := pop(&f.nextErrs); err != nil {
		return 0, err
	}
	if len(events) > f.maxBatch {
		return 0, ErrRPCInvalidBound
	}
	n := 0
	for _, r := range f.recs {
		if n == len(events) {
			break
		}
		if r.seq <= s.after {
			continue
		}
		s.after = r.seq
		if !f.wanted(r) {
			continue // the query filters it out: never rendered
		}
		events[n] = f.newHandle(fakeHandle{rec: r})
		n++
	}
	if n == 0 {
		return 0, ErrNoMoreItems
	}
	return n, nil
}

func (s *fakeSub) Wait(timeout time.Duration) (bool, error) {
	time.Sleep(min(timeout, time.Millisecond))
	return false, nil
}

func (s *fakeSub) Close() error { return s.f.Close(s.h) }
