// Package wineventlog reads live Windows Event Log channels (Sysmon's
// Operational log, Security, ForwardedEvents on a collector) as a
// source.Source.
//
// Every decision lives here, in platform-neutral code; the Windows Event Log
// API is reached through the small API interface, which api_windows.go
// implements over wevtapi.dll and tests replace with a scripted fake:
//
//   - a pull subscription (EvtSubscribe with a signal event, EvtNext in
//     batches) limited by an XPath query to the events procbeat maps, so the
//     service renders nothing else;
//   - each event rendered as XML into a buffer that grows until the event
//     fits (ERROR_INSUFFICIENT_BUFFER), the used size and the terminator
//     checked so that a cut render is an error and never a short event, then
//     decoded by the XML decoder the file inputs use;
//   - positions: every record reports its record id (Offset), its time
//     (Check) and a bookmark rendered once per batch (see reader.Next);
//   - resuming after a bookmark strictly, once the last delivered record,
//     looked up by id, proved to be still the one delivered; a bookmark that
//     is gone (log cleared or rolled over) is logged, counted as a gap, and
//     reading starts again at the oldest record, dropping what was already
//     delivered;
//   - RPC_S_INVALID_BOUND halves the batch; other errors reopen the
//     subscription with backoff; a channel that does not exist, a bad query
//     or a denied access end the reader with an error naming the channel.
//
// Forwarded events keep the Computer they were logged on: the record is the
// event's own XML, never rewritten with the collector's name.
package wineventlog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/procbeat/procbeat/internal/utf16le"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/decode/xmlevent"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/winevent"
)

// Start positions a channel without a stored bookmark starts at
// (Config.StartAt).
const (
	StartAtBeginning = "beginning" // every record still in the channel
	StartAtNow       = "now"       // records written from now on
)

// Defaults and limits.
const (
	DefaultBatchSize = 100
	// MaxBatchSize is the most records one EvtNext may return: the event
	// log RPC interface bounds a batch at 1024 (MS-EVEN6
	// MAX_RPC_RECORD_COUNT).
	MaxBatchSize        = 1024
	DefaultBackoffInit  = time.Second
	DefaultBackoffMax   = time.Minute
	DefaultWaitInterval = 500 * time.Millisecond
)

// Config is one channel's settings.
type Config struct {
	// Channel is the event log channel, e.g. Security,
	// Microsoft-Windows-Sysmon/Operational or ForwardedEvents.
	Channel string
	// StartAt applies when the registry holds no bookmark for the channel:
	// beginning (the default) or now. A stored bookmark always wins.
	StartAt string
	// BatchSize is how many records one EvtNext asks for (1-1024); zero is
	// DefaultBatchSize.
	BatchSize int
	// BackoffInit and BackoffMax bound the wait before a subscription is
	// reopened after an error; zero is the default.
	BackoffInit, BackoffMax time.Duration
	// ImageLoads adds Sysmon's image loads (event 7) to the events read,
	// for image enrichment (mapping.WantsWithImages).
	ImageLoads bool
	// WaitInterval is the longest a reader waits for the subscription's
	// signal before it looks at its context again; zero is the default.
	WaitInterval time.Duration
}

// Options are what the caller supplies besides the configuration.
type Options struct {
	// API reaches the event log; nil is the system's (wevtapi.dll on
	// Windows, an error elsewhere).
	API API
	// Decode carries the decoder options: MaxRecordSize bounds one event's
	// XML (UTF-8), OnError sees every record that cannot be read.
	Decode   decode.Options
	Logger   monitoring.Logger
	Counters *monitoring.Counters
}

// ErrNotWindows is New's error on systems without the Windows Event Log.
var ErrNotWindows = errors.New("wineventlog inputs read live Windows event log channels and run only on Windows")

// Source is one live channel.
type Source struct {
	cfg   Config
	api   API
	opts  Options
	query string
}

var _ source.Source = (*Source)(nil)

// New checks cfg and returns the channel's source.
func New(cfg Config, opts Options) (*Source, error) {
	cfg.Channel = strings.TrimSpace(cfg.Channel)
	if cfg.Channel == "" {
		return nil, errors.New("wineventlog: a channel name is required")
	}
	switch cfg.StartAt {
	case "":
		cfg.StartAt = StartAtBeginning
	case StartAtBeginning, StartAtNow:
	default:
		return nil, fmt.Errorf("wineventlog: channel %s: start_at %q is not one of %s, %s", cfg.Channel, cfg.StartAt, StartAtBeginning, StartAtNow)
	}
	switch {
	case cfg.BatchSize == 0:
		cfg.BatchSize = DefaultBatchSize
	case cfg.BatchSize < 1 || cfg.BatchSize > MaxBatchSize:
		return nil, fmt.Errorf("wineventlog: channel %s: batch_size %d is not within 1-%d", cfg.Channel, cfg.BatchSize, MaxBatchSize)
	}
	if cfg.BackoffInit <= 0 {
		cfg.BackoffInit = DefaultBackoffInit
	}
	if cfg.BackoffMax < cfg.BackoffInit {
		cfg.BackoffMax = max(DefaultBackoffMax, cfg.BackoffInit)
	}
	if cfg.WaitInterval <= 0 {
		cfg.WaitInterval = DefaultWaitInterval
	}
	if opts.API == nil {
		api, err := systemAPI()
		if err != nil {
			return nil, fmt.Errorf("wineventlog: channel %s: %w", cfg.Channel, err)
		}
		opts.API = api
	}
	if opts.Logger == nil {
		opts.Logger = monitoring.NopLogger{}
	}
	if opts.Counters == nil {
		opts.Counters = &monitoring.Counters{}
	}
	if opts.Decode.MaxRecordSize <= 0 {
		opts.Decode.MaxRecordSize = xmlevent.DefaultMaxRecordSize
	}
	return &Source{cfg: cfg, api: opts.API, opts: opts, query: Query(cfg.ImageLoads)}, nil
}

// ID is the registry key of the channel.
func (s *Source) ID() string { return "wineventlog:" + s.cfg.Channel }

// Open subscribes to the channel after pos (see reader.Next for what a
// position holds). A channel that does not exist, or that procbeat may not
// read, is an error; other errors are retried by Next with backoff.
func (s *Source) Open(ctx context.Context, pos source.Position) (source.Reader, error) {
	r := &reader{
		s:        s,
		batch:    s.cfg.BatchSize,
		handles:  make([]Handle, s.cfg.BatchSize),
		doneBM:   pos.Bookmark,
		lastID:   pos.Offset,
		lastTime: pos.Check,
		start:    StartAtOldest,
		backoff:  s.cfg.BackoffInit,
		// UTF-16 takes at most twice the bytes of the UTF-8 the decoder
		// accepts, plus the terminator.
		maxRender: 2*s.opts.Decode.MaxRecordSize + 2,
		buf:       make([]byte, 16<<10),
	}
	if s.cfg.StartAt == StartAtNow {
		r.start = StartFuture
	}
	r.dec = xmlevent.NewEventDecoder(s.ID(), s.opts.Decode)
	r.check = xmlevent.NewEventDecoder(s.ID(), decode.Options{MaxRecordSize: s.opts.Decode.MaxRecordSize, MaxErrors: -1})
	if err := r.subscribe(); err != nil {
		if permanent(err) {
			r.Close()
			return nil, r.configError(err)
		}
		r.broken("opening", err)
	}
	return r, nil
}

// reader reads one subscription.
//
// Positions. Rendering a bookmark for every record would double the calls
// into the service, so a bookmark is rendered once per batch, at the batch's
// last event, and records report:
//
//	Offset   the record's own EventRecordID;
//	Check    its TimeCreated (Unix nanoseconds);
//	Bookmark the bookmark of the end of the previous batch, or, for the
//	         batch's last record, of the end of this one.
//
// The registry stores the position of the last record the output
// acknowledged with every record before it. Opening at it subscribes after
// its bookmark, which re-reads at most the rest of one batch, and drops the
// records at or below Offset that are not newer than Check: those were
// delivered. After a log is cleared record ids start again at 1, and Check
// keeps the new records from being taken for delivered ones. Until the
// first batch of a subscription without a bookmark (start, gap) completes,
// each record renders its own bookmark, so that a restart never falls back
// to start_at.
type reader struct {
	s *Source

	sub     Subscription
	bm      Handle   // positioned at the end of the current batch
	recBM   Handle   // per-record bookmark while there is no batch bookmark yet
	handles []Handle // the current batch
	n, i    int      // handles in the batch, next to hand out
	batch   int      // records asked for per EvtNext (halved on RPC_S_INVALID_BOUND)

	// doneBM is the bookmark after the last complete batch; endBM the one
	// after the current batch; perRecord says doneBM was empty when the
	// batch began.
	doneBM, endBM string
	perRecord     bool
	start         Start // where to subscribe when doneBM is empty

	// lastID and lastTime are the last delivered record's id and time;
	// skipID and skipTime are those as they stood when the subscription
	// opened: records at or below them are already delivered.
	lastID, lastTime uint64
	skipID, skipTime uint64

	buf       []byte // UTF-16 render buffer; grows to the largest event
	maxRender int
	text      []byte // the render as UTF-8
	dec       *xmlevent.Decoder
	check     *xmlevent.Decoder // for verify: its errors are not the channel's
	index     int               // records read, for error messages

	rec     *winevent.Record
	pos     source.Position
	backoff time.Duration
	err     error
}

// Next returns the next record of the channel, waiting for one as long as
// ctx lasts.
func (r *reader) Next(ctx context.Context) bool {
	for r.err == nil && ctx.Err() == nil {
		if r.sub == nil {
			r.reopen(ctx)
			continue
		}
		if r.i < r.n {
			h := r.handles[r.i]
			r.i++
			if r.deliver(h, r.i == r.n) {
				return true
			}
			continue
		}
		if r.n > 0 {
			// Every record of the batch was handed out.
			r.doneBM = r.endBM
			r.closeBatch()
		}
		n, err := r.sub.Next(r.handles[:r.batch])
		if err == nil && n > 0 {
			r.n, r.i = n, 0
			r.backoff = r.s.cfg.BackoffInit
			if err := r.beginBatch(); err != nil {
				r.broken("bookmarking a batch", err)
			}
			continue
		}
		if err == nil || code(err) == ErrNoMoreItems {
			if _, err := r.sub.Wait(r.s.cfg.WaitInterval); err != nil {
				r.broken("waiting for events", err)
			}
			continue
		}
		if code(err) == ErrRPCInvalidBound {
			if r.batch > 1 {
				r.batch /= 2
				r.s.opts.Logger.Warnf("wineventlog: channel %s: batch too large for the event log service (%v): asking for %d records at a time", r.s.cfg.Channel, err, r.batch)
				continue
			}
		}
		r.broken("reading", err)
	}
	return false
}

// beginBatch renders the bookmark of the batch's last event.
func (r *reader) beginBatch() error {
	r.perRecord = r.doneBM == ""
	if err := r.s.api.UpdateBookmark(r.bm, r.handles[r.n-1]); err != nil {
		return err
	}
	text, err := r.render(r.bm, true)
	if err != nil {
		return err
	}
	r.endBM = string(text)
	return nil
}

// deliver renders, decodes and positions one event; false means it was
// skipped (reported, or already delivered).
func (r *reader) deliver(h Handle, last bool) bool {
	r.index++
	// The decoder numbers the records it sees; render failures count too.
	r.dec.Index = r.index - 1
	text, err := r.render(h, false)
	if err != nil {
		// One event's problem (too large, cut short, refused by the
		// service): reported, and the channel goes on.
		r.dec.Index++
		r.dec.Log.Add(&decode.RecordError{File: r.s.ID(), Index: r.index, Err: err})
		return false
	}
	rec, err := r.dec.DecodeEvent(text)
	if err != nil {
		return false // reported through the decoder's error log
	}
	var at uint64
	if !rec.TimeCreated.IsZero() {
		at = uint64(rec.TimeCreated.UnixNano())
	}
	if r.skipID != 0 {
		if rec.RecordID <= r.skipID && (r.skipTime == 0 || at <= r.skipTime) {
			return false
		}
		if rec.RecordID > r.skipID {
			// Past everything delivered before: ids only grow from here.
			r.skipID, r.skipTime = 0, 0
		}
	}
	bm := r.doneBM
	switch {
	case last:
		bm = r.endBM
	case r.perRecord:
		if err := r.s.api.UpdateBookmark(r.recBM, h); err != nil {
			r.broken("bookmarking a record", err)
			return false
		}
		b, err := r.render(r.recBM, true)
		if err != nil {
			r.broken("rendering a record's bookmark", err)
			return false
		}
		bm = string(b)
	}
	r.rec = rec
	r.lastID, r.lastTime = rec.RecordID, at
	r.pos = source.Position{Offset: rec.RecordID, Check: at, Bookmark: bm}
	return true
}

// render renders an event or a bookmark as UTF-8 XML in r.text, growing the
// buffer until it fits. A render that claims success without its terminator
// within the bytes it says it used is cut short: an error, never an event.
func (r *reader) render(h Handle, bookmark bool) ([]byte, error) {
	for {
		used, err := r.s.api.RenderXML(h, bookmark, r.buf)
		if code(err) == ErrInsufficientBuffer {
			if used <= len(r.buf) {
				return nil, fmt.Errorf("rendering: the service asks for %d bytes with a %d byte buffer: %w", used, len(r.buf), err)
			}
			if used > r.maxRender {
				return nil, fmt.Errorf("rendered XML of %d bytes exceeds the %d byte limit", used, r.maxRender)
			}
			r.buf = make([]byte, max(used, 2*len(r.buf)))
			r.buf = r.buf[:min(len(r.buf), r.maxRender)]
			continue
		}
		if err != nil {
			if !bookmark {
				// An event that cannot be rendered is that event's
				// problem; the caller reports it and goes on.
				return nil, fmt.Errorf("rendering: %w", err)
			}
			return nil, err
		}
		if used < 2 || used > len(r.buf) || used%2 != 0 {
			return nil, fmt.Errorf("rendering: the service reports %d bytes used of a %d byte buffer", used, len(r.buf))
		}
		if r.buf[used-2] != 0 || r.buf[used-1] != 0 {
			return nil, fmt.Errorf("rendering: no terminator within the %d bytes used: the XML was cut short", used)
		}
		r.text = utf16le.Append(r.text[:0], r.buf[:used])
		return r.text, nil
	}
}

// subscribe opens the subscription after doneBM, or at r.start without one.
// A bookmark that is gone starts a gap: the subscription starts at the
// oldest record and the records already delivered are dropped.
func (r *reader) subscribe() error {
	api := r.s.api
	r.closeHandle(&r.bm)
	r.closeHandle(&r.recBM)
	r.skipID, r.skipTime = r.lastID, r.lastTime
	if r.doneBM != "" && r.lastID != 0 && r.lastTime != 0 {
		// A bookmark names a record id only: after a clear, the log may
		// hold a new record under the same id, and resuming after it
		// would skip every new record before it. The last delivered
		// record, looked up by id, must still be the one delivered.
		switch err := r.verify(); {
		case err == nil:
		case permanent(err):
			return err
		case errors.Is(err, errReplaced):
			r.gap(err)
		default:
			r.s.opts.Logger.Warnf("wineventlog: channel %s: cannot check that record %d is still the one delivered (%v); resuming after the bookmark", r.s.cfg.Channel, r.lastID, err)
		}
	}
	if r.doneBM != "" {
		bm, err := api.CreateBookmark(r.doneBM)
		if err != nil {
			r.gap(err)
		} else {
			r.bm = bm
		}
	}
	var (
		sub Subscription
		err error
	)
	if r.bm != 0 {
		sub, err = api.Subscribe(r.s.cfg.Channel, r.s.query, StartAfterBookmark, r.bm)
	} else {
		sub, err = api.Subscribe(r.s.cfg.Channel, r.s.query, r.start, 0)
	}
	if err != nil && r.bm != 0 && bookmarkGone(err) {
		r.gap(err)
		r.closeHandle(&r.bm)
		sub, err = api.Subscribe(r.s.cfg.Channel, r.s.query, r.start, 0)
	}
	if err != nil {
		return err
	}
	r.sub = sub
	for _, h := range []*Handle{&r.bm, &r.recBM} {
		if *h == 0 {
			if *h, err = api.CreateBookmark(""); err != nil {
				return err
			}
		}
	}
	return nil
}

// errReplaced says the last delivered record is no longer in the log as it
// was delivered.
var errReplaced = errors.New("the log no longer holds the last delivered record")

// verify looks up the last delivered record by id and compares its time
// with the time delivered.
func (r *reader) verify() error {
	h, err := r.s.api.QueryRecord(r.s.cfg.Channel, r.lastID)
	if err != nil {
		return err
	}
	if h == 0 {
		return fmt.Errorf("record %d is gone: %w", r.lastID, errReplaced)
	}
	defer r.s.api.Close(h)
	text, err := r.render(h, false)
	if err != nil {
		return err
	}
	rec, err := r.check.DecodeEvent(text)
	if err != nil {
		return err
	}
	if at := rec.TimeCreated.UnixNano(); uint64(at) != r.lastTime {
		return fmt.Errorf("record %d is now an event of %s, not the one of %s delivered (log cleared): %w",
			r.lastID, rec.TimeCreated.Format(time.RFC3339Nano), time.Unix(0, int64(r.lastTime)).UTC().Format(time.RFC3339Nano), errReplaced)
	}
	return nil
}

// gap records that the bookmark is gone: reading starts again at the
// oldest record.
func (r *reader) gap(err error) {
	r.s.opts.Counters.EventLogGaps.Add(1)
	r.s.opts.Logger.Warnf("wineventlog: channel %s: the bookmark is no longer in the log (cleared or rolled over: %v); reading again from the oldest record, dropping records up to record id %d already delivered",
		r.s.cfg.Channel, err, r.lastID)
	r.doneBM, r.start = "", StartAtOldest
}

// broken drops the subscription after an error; Next reopens it after a
// backoff, unless the error is permanent.
func (r *reader) broken(doing string, err error) {
	r.closeBatch()
	if r.sub != nil {
		_ = r.sub.Close()
		r.sub = nil
	}
	if permanent(err) {
		r.err = r.configError(err)
		return
	}
	r.s.opts.Logger.Warnf("wineventlog: channel %s: %s: %v; reopening in %s", r.s.cfg.Channel, doing, err, r.backoff)
}

// reopen waits out the backoff and subscribes again.
func (r *reader) reopen(ctx context.Context) {
	t := time.NewTimer(r.backoff)
	select {
	case <-ctx.Done():
		t.Stop()
		return
	case <-t.C:
	}
	r.backoff = min(2*r.backoff, r.s.cfg.BackoffMax)
	r.s.opts.Counters.EventLogReopens.Add(1)
	if err := r.subscribe(); err != nil {
		r.broken("reopening", err)
	}
}

func (r *reader) configError(err error) error {
	switch code(err) {
	case ErrEvtChannelNotFound, ErrEvtInvalidChannelPath:
		return fmt.Errorf("wineventlog: channel %q does not exist on this host (check the input's channels; wevtutil el lists them): %w", r.s.cfg.Channel, err)
	case ErrAccessDenied:
		return fmt.Errorf("wineventlog: channel %q may not be read by this account (run as LocalSystem or a member of Event Log Readers): %w", r.s.cfg.Channel, err)
	}
	return fmt.Errorf("wineventlog: channel %q: %w", r.s.cfg.Channel, err)
}

func (r *reader) closeBatch() {
	for _, h := range r.handles[:r.n] {
		_ = r.s.api.Close(h)
	}
	r.n, r.i = 0, 0
}

func (r *reader) closeHandle(h *Handle) {
	if *h != 0 {
		_ = r.s.api.Close(*h)
		*h = 0
	}
}

func (r *reader) Record() *winevent.Record  { return r.rec }
func (r *reader) Position() source.Position { return r.pos }
func (r *reader) Err() error                { return r.err }

// Close releases the batch, the bookmarks and the subscription.
func (r *reader) Close() error {
	r.closeBatch()
	r.closeHandle(&r.bm)
	r.closeHandle(&r.recBM)
	if r.sub != nil {
		err := r.sub.Close()
		r.sub = nil
		return err
	}
	return nil
}
