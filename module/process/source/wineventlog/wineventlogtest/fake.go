// Package wineventlogtest is an in-memory Windows event log behind
// wineventlog.API, for tests of the packages that run live inputs (the
// beater, Elastic Agent management) on any system. The wineventlog package's
// own tests script failures call by call with a fuller fake of their own;
// this one models what the callers depend on: channels that exist or not,
// records appended, subscriptions from the oldest record, from now on or
// after a bookmark.
package wineventlogtest

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/procbeat/procbeat/module/process/source/wineventlog"
)

// Log is a set of channels. Its methods are safe for concurrent use.
type Log struct {
	mu       sync.Mutex
	channels map[string][]string // channel → rendered events, record id = index+1
	handles  map[wineventlog.Handle]handle
	next     wineventlog.Handle
}

type handle struct {
	channel  string
	bookmark bool
	id       uint64 // the event's record id, or the bookmarked one (0: none)
}

var _ wineventlog.API = (*Log)(nil)

// New returns a log without channels.
func New() *Log {
	return &Log{channels: map[string][]string{}, handles: map[wineventlog.Handle]handle{}}
}

// AddChannel creates a channel (installing Sysmon does); a channel that
// exists keeps its records.
func (l *Log) AddChannel(channel string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.channels[channel]; !ok {
		l.channels[channel] = []string{}
	}
}

// Write appends events to channel, creating it; event renders the XML of
// the record with the id it gets.
func (l *Log) Write(channel string, n int, event func(recordID uint64) string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recs := l.channels[channel]
	for range n {
		recs = append(recs, event(uint64(len(recs)+1)))
	}
	l.channels[channel] = recs
}

// Open is how many handles are open: zero once every reader is closed.
func (l *Log) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.handles)
}

func (l *Log) add(h handle) wineventlog.Handle {
	l.next++
	l.handles[l.next] = h
	return l.next
}

// Subscribe ignores the query: tests write only events it selects.
func (l *Log) Subscribe(channel, _ string, start wineventlog.Start, bookmark wineventlog.Handle) (wineventlog.Subscription, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recs, ok := l.channels[channel]
	if !ok {
		return nil, wineventlog.ErrEvtChannelNotFound
	}
	s := &subscription{l: l, channel: channel}
	switch start {
	case wineventlog.StartAtOldest:
	case wineventlog.StartFuture:
		s.after = uint64(len(recs))
	case wineventlog.StartAfterBookmark:
		bm, ok := l.handles[bookmark]
		if !ok || !bm.bookmark || bm.id == 0 {
			return nil, wineventlog.ErrInvalidParameter
		}
		if bm.id > uint64(len(recs)) {
			return nil, wineventlog.ErrNotFound
		}
		s.after = bm.id
	default:
		return nil, wineventlog.ErrInvalidParameter
	}
	s.h = l.add(handle{channel: channel})
	return s, nil
}

var bookmarkRE = regexp.MustCompile(`Channel='([^']*)' RecordId='(\d+)'`)

func (l *Log) CreateBookmark(xml string) (wineventlog.Handle, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := handle{bookmark: true}
	if xml != "" {
		m := bookmarkRE.FindStringSubmatch(xml)
		if m == nil {
			return 0, wineventlog.ErrEvtMalformedXMLText
		}
		h.channel = m[1]
		h.id, _ = strconv.ParseUint(m[2], 10, 64)
	}
	return l.add(h), nil
}

func (l *Log) UpdateBookmark(bookmark, event wineventlog.Handle) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	bm, ok1 := l.handles[bookmark]
	ev, ok2 := l.handles[event]
	if !ok1 || !ok2 || !bm.bookmark || ev.bookmark {
		return wineventlog.ErrInvalidParameter
	}
	bm.channel, bm.id = ev.channel, ev.id
	l.handles[bookmark] = bm
	return nil
}

func (l *Log) QueryRecord(channel string, id uint64) (wineventlog.Handle, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recs, ok := l.channels[channel]
	if !ok {
		return 0, wineventlog.ErrEvtChannelNotFound
	}
	if id == 0 || id > uint64(len(recs)) {
		return 0, nil
	}
	return l.add(handle{channel: channel, id: id}), nil
}

func (l *Log) Close(h wineventlog.Handle) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.handles[h]; !ok {
		return wineventlog.ErrInvalidParameter
	}
	delete(l.handles, h)
	return nil
}

func (l *Log) RenderXML(h wineventlog.Handle, bookmark bool, buf []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hd, ok := l.handles[h]
	if !ok || hd.bookmark != bookmark {
		return 0, wineventlog.ErrInvalidParameter
	}
	var text string
	if bookmark {
		text = fmt.Sprintf("<BookmarkList>\r\n  <Bookmark Channel='%s' RecordId='%d' IsCurrent='true'/>\r\n</BookmarkList>", hd.channel, hd.id)
	} else {
		text = l.channels[hd.channel][hd.id-1]
	}
	u := utf16.Encode([]rune(text + "\x00"))
	if 2*len(u) > len(buf) {
		return 2 * len(u), wineventlog.ErrInsufficientBuffer
	}
	for i, c := range u {
		buf[2*i], buf[2*i+1] = byte(c), byte(c>>8)
	}
	return 2 * len(u), nil
}

type subscription struct {
	l       *Log
	channel string
	h       wineventlog.Handle
	after   uint64 // record id of the last event handed out
}

func (s *subscription) Next(events []wineventlog.Handle) (int, error) {
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	recs, ok := l.channels[s.channel]
	if !ok {
		return 0, wineventlog.ErrEvtChannelNotFound
	}
	n := 0
	for n < len(events) && s.after < uint64(len(recs)) {
		s.after++
		events[n] = l.add(handle{channel: s.channel, id: s.after})
		n++
	}
	if n == 0 {
		return 0, wineventlog.ErrNoMoreItems
	}
	return n, nil
}

// Wait sleeps briefly: the fake has no signal, readers poll.
func (s *subscription) Wait(timeout time.Duration) (bool, error) {
	time.Sleep(min(timeout, 5*time.Millisecond))
	return false, nil
}

func (s *subscription) Close() error { return s.l.Close(s.h) }

// SysmonStart renders a Sysmon process creation (event 1) of host with
// record id id; pid and the process GUID derive from id, so every record
// is a process of its own.
func SysmonStart(host string, at time.Time) func(id uint64) string {
	return func(id uint64) string {
		return fmt.Sprintf("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"+
			"<Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/><EventID>1</EventID>"+
			"<TimeCreated SystemTime='%s'/><EventRecordID>%d</EventRecordID>"+
			"<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>%s</Computer></System><EventData>"+
			"<Data Name='UtcTime'>%s</Data><Data Name='ProcessGuid'>{11111111-2222-3333-4444-%012d}</Data>"+
			"<Data Name='ProcessId'>%d</Data><Data Name='Image'>C:\\Windows\\System32\\cmd.exe</Data>"+
			"<Data Name='CommandLine'>cmd.exe /c echo %d</Data><Data Name='User'>CORP\\alice</Data>"+
			"<Data Name='ParentProcessGuid'>{11111111-2222-3333-4444-000000000000}</Data><Data Name='ParentProcessId'>4</Data>"+
			"<Data Name='ParentImage'>C:\\Windows\\explorer.exe</Data></EventData></Event>",
			at.Add(time.Duration(id)*time.Millisecond).UTC().Format(time.RFC3339Nano), id, host,
			at.Add(time.Duration(id)*time.Millisecond).UTC().Format("2006-01-02 15:04:05.000"), id, 1000+id, id)
	}
}
