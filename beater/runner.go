// Package beater wires procbeat together: sources feed the mapping, the
// mapping feeds the pipeline, the pipeline's acknowledgements advance the
// registry, and the process tracker is saved with the registry so that a
// replay split across runs keeps its ancestry.
package beater

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/procbeat/procbeat/codec/car"
	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

// Runner replays files through the mapping into a pipeline.
type Runner struct {
	opener   source.Opener
	mapper   *mapping.Mapper
	tracker  *tracker.Tracker
	reg      *registry.Registry // nil: no checkpoints, no resume
	pipe     *pipeline.Pipeline
	codec    string
	observe  func(*document.Document)
	log      monitoring.Logger
	counters *monitoring.Counters

	mu        sync.Mutex
	summary   Summary
	lastSaved time.Time
	saveBuf   bytes.Buffer
}

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	Opener   source.Opener
	Mapper   *mapping.Mapper
	Tracker  *tracker.Tracker
	Registry *registry.Registry
	Pipeline *pipeline.Pipeline
	// Codec is json (Defend documents) or car (MITRE CAR objects).
	Codec string
	// Observe, when set, sees every document before it is published.
	Observe  func(*document.Document)
	Logger   monitoring.Logger
	Counters *monitoring.Counters
}

// NewRunner returns a Runner. The tracker is restored from the registry's
// saved state when there is one.
func NewRunner(o RunnerOptions) (*Runner, error) {
	if o.Logger == nil {
		o.Logger = monitoring.NopLogger{}
	}
	if o.Counters == nil {
		o.Counters = &monitoring.Counters{}
	}
	r := &Runner{opener: o.Opener, mapper: o.Mapper, tracker: o.Tracker, reg: o.Registry, pipe: o.Pipeline,
		codec: o.Codec, observe: o.Observe, log: o.Logger, counters: o.Counters, summary: newSummary()}
	if r.reg != nil {
		if state := r.reg.Extra(); len(state) > 0 {
			if err := r.tracker.Load(bytes.NewReader(state)); err != nil {
				// The tracker only enriches; losing it costs ancestry,
				// not events.
				r.log.Errorf("process table in %s unreadable, starting empty: %v", r.reg.Path(), err)
			}
		}
	}
	return r, nil
}

// SourceID is the identity a file's checkpoint is kept under: its cleaned
// absolute path, so a log copied again to the same place (grown) resumes
// where the previous copy stopped.
func SourceID(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = filepath.Clean(path)
	}
	return "file:" + abs
}

// ReplayFile reads one file to its end, publishing every process document
// after the file's checkpoint. A record that cannot be decoded or mapped is
// reported and skipped; an error is returned only when the file cannot be
// read or ctx ends.
func (r *Runner) ReplayFile(ctx context.Context, path string) error {
	return r.replayFile(ctx, path, source.FormatUnknown)
}

// replayFile is ReplayFile with the format forced (an input's type), or
// detected per file when it is FormatUnknown.
func (r *Runner) replayFile(ctx context.Context, path string, format source.Format) error {
	id := SourceID(path)
	var after uint64
	if r.reg != nil {
		if pos, ok := r.reg.Position(id); ok {
			after = pos.Offset
		}
	}
	opener := r.opener
	opener.Format = format
	opener.EVTX = EVTXOpener(ctx, after)
	opener.Options.OnError = func(e *decode.RecordError) {
		r.count(func(s *Summary) { s.recordErrors(path, ErrorDecode, 1) })
		r.log.Warnf("%v", e)
	}
	f, err := opener.Open(path)
	if err != nil {
		r.count(func(s *Summary) { s.fileFailed(path, ErrorOpen, err) })
		return err
	}
	defer f.Close()
	r.count(func(s *Summary) { s.Files++ })
	client := r.pipe.Client(id)
	var doc document.Document
	var ordinal, last uint64
	// Counts are kept locally and merged now and then: the summary's lock
	// and maps stay off the per-record path.
	var c fileCounts
	defer r.merge(&c)
	for f.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec := f.Record()
		ordinal++
		c.records++
		if c.records%1024 == 0 {
			r.merge(&c)
		}
		// EVTX records carry increasing record ids; text exports are
		// positioned by their order in the file.
		offset := ordinal
		if f.Format == source.FormatEVTX && rec.RecordID != 0 {
			offset = max(rec.RecordID, last)
		}
		last = offset
		if offset <= after && after != 0 {
			c.skipped++
			continue
		}
		kind, err := r.mapper.Map(rec, &doc)
		if err != nil {
			r.count(func(s *Summary) { s.recordErrors(path, ErrorMapping, 1) })
			r.log.Warnf("%s: record %d (event %d): %v", path, offset, rec.EventID, err)
			continue
		}
		c.kinds[kind]++
		if kind == mapping.None {
			continue
		}
		if r.observe != nil {
			r.observe(&doc)
		}
		ev := pipeline.Event{Index: r.mapper.Index(kind), ID: doc.Event.ID, Body: r.encode(&doc), Pos: pipeline.Position{Offset: offset}}
		if err := client.Publish(ctx, ev); err != nil {
			return fmt.Errorf("%s: record %d: %w", path, offset, err)
		}
		r.maybeSaveTracker(false)
	}
	// Records a reader dropped before decoding (EVTX's filter) were read
	// too: count them so "records read" means the same for every format.
	if fr, ok := f.Reader.(interface{ Filtered() int64 }); ok {
		n := fr.Filtered()
		c.records += n
		c.kinds[mapping.None] += n
	}
	if err := f.Err(); err != nil {
		r.count(func(s *Summary) { s.fileFailed(path, ErrorRead, err) })
		return fmt.Errorf("%s: %w", path, err)
	}
	// A text file in which nothing decoded as an event was not what the
	// user meant to replay (or not what its name says); an EVTX file is a
	// Windows log by its header even when empty.
	if ordinal == 0 && f.Format != source.FormatEVTX {
		r.count(func(s *Summary) { s.fileFailed(path, ErrorNoEvents, ErrNoEvents) })
		r.log.Errorf("%s: %v", path, ErrNoEvents)
	}
	r.maybeSaveTracker(true)
	return nil
}

// encode renders the document for the output; the pipeline keeps the bytes
// until the output acknowledges them, so each event gets its own buffer.
func (r *Runner) encode(d *document.Document) []byte {
	if r.codec == "car" {
		return car.Append(make([]byte, 0, 1024), d)
	}
	return d.AppendJSON(make([]byte, 0, 2048))
}

// maybeSaveTracker hands the tracker's state to the registry every few
// seconds (and at the end of a file); the registry writes it with the next
// checkpoint.
func (r *Runner) maybeSaveTracker(force bool) {
	if r.reg == nil {
		return
	}
	now := time.Now()
	if !force && now.Sub(r.lastSaved) < 5*time.Second {
		return
	}
	r.lastSaved = now
	r.saveBuf.Reset()
	if err := r.tracker.Save(&r.saveBuf); err != nil {
		r.log.Errorf("saving the process table: %v", err)
		return
	}
	r.reg.SetExtra(r.saveBuf.Bytes())
}

// fileCounts are one file's counts not yet merged into the summary.
type fileCounts struct {
	records, skipped int64
	kinds            [4]int64 // by mapping.Kind
}

// merge adds c to the summary and the read counter, and zeroes c.
func (r *Runner) merge(c *fileCounts) {
	r.counters.EventsRead.Add(uint64(c.records))
	r.mu.Lock()
	s := &r.summary
	s.Records += c.records
	s.Skipped += c.skipped
	for k, n := range c.kinds {
		if n > 0 {
			s.Docs[mapping.Kind(k).String()] += n
		}
	}
	r.mu.Unlock()
	*c = fileCounts{}
}

func (r *Runner) count(f func(*Summary)) {
	r.mu.Lock()
	f(&r.summary)
	r.mu.Unlock()
}

// Summary returns what the runner did so far.
func (r *Runner) Summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.summary.clone()
}

// ErrNoInput is returned when there is nothing to read.
var ErrNoInput = errors.New("no input files")
