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
	"strings"
	"sync"
	"time"

	"github.com/procbeat/procbeat/codec/car"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

// Runner reads sources through the mapping into a pipeline. It knows no
// format: every source (an EVTX file, an XML or JSON export, an archive
// member, a live channel) is a source.Source that owns its position.
type Runner struct {
	opts     source.Options
	mapper   *mapping.Mapper
	tracker  *tracker.Tracker
	reg      *registry.Registry // nil: no checkpoints, no resume
	pipe     *pipeline.Pipeline
	codec    string
	observe  func(*document.Document)
	log      monitoring.Logger
	counters *monitoring.Counters

	// mapMu serializes the mapping (the mapper and tracker are not safe
	// for concurrent use) and the tracker's saving when several sources
	// run at once (live channels).
	mapMu sync.Mutex

	mu        sync.Mutex
	summary   Summary
	read      map[string]source.Position // where each source read to in this run
	walk      walkFS                     // nil: the OS (tests inject failures)
	lastSaved time.Time
	saveBuf   bytes.Buffer
}

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	// Source configures the file sources the runner opens itself
	// (ReplayFile); its Filter, Notice and Decode.OnError are set by the
	// runner.
	Source   source.Options
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
	r := &Runner{opts: o.Source, mapper: o.Mapper, tracker: o.Tracker, reg: o.Registry, pipe: o.Pipeline,
		codec: o.Codec, observe: o.Observe, log: o.Logger, counters: o.Counters, summary: newSummary(),
		read: map[string]source.Position{}}
	// Only the records the mapping wants are decoded from EVTX.
	r.opts.Filter = mapping.Wants
	r.opts.Notice = func(msg string) { r.log.Warnf("%s", msg) }
	r.opts.Decode.OnError = func(e *decode.RecordError) {
		// e.File names the source as messages do: a path, or an
		// archive:member.
		r.count(func(s *Summary) { s.recordErrors(e.File, ErrorDecode, 1) })
		r.log.Warnf("%v", e)
	}
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

// sourceOptions are the file sources' settings from the configuration.
func sourceOptions(cfg config.Config) source.Options {
	a := cfg.Procbeat.Archives
	return source.Options{Archive: source.ArchiveLimits{MaxBytes: a.MaxUncompressedBytes, MaxRatio: a.MaxRatio, MaxDepth: a.MaxDepth}}
}

// SourceID is the identity a file's checkpoint is kept under: its cleaned
// absolute path, so a log copied again to the same place (grown) resumes
// where the previous copy stopped.
func SourceID(path string) string { return source.ID(path) }

// ReplayFile reads one file to its end (an archive: each of its input
// members), publishing every process document after the file's position.
// A record that cannot be decoded or mapped is reported and skipped; an
// error is returned only when the file cannot be read or ctx ends.
func (r *Runner) ReplayFile(ctx context.Context, path string) error {
	return r.replayFile(ctx, path, source.FormatUnknown)
}

// replayFile is ReplayFile with the format forced (an input's type), or
// detected per file when it is FormatUnknown.
func (r *Runner) replayFile(ctx context.Context, path string, format source.Format) error {
	opts := r.opts
	opts.Format = format
	if source.ArchiveKind(path) == "" {
		return r.Run(ctx, source.NewFile(path, opts))
	}
	err := source.WalkArchive(ctx, path, opts, func(s source.Source) error {
		if err := r.Run(ctx, s); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, source.ErrArchiveBomb) {
				// WalkArchive returns it, naming the archive.
				return nil
			}
			// One member's failure costs that member only.
			r.log.Errorf("%v", err)
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		r.count(func(s *Summary) { s.fileFailed(path, ErrorRead, err) })
		return err
	}
	return err
}

// sourceName is how messages name a source.
func sourceName(s source.Source) string {
	if n, ok := s.(fmt.Stringer); ok {
		return n.String()
	}
	return s.ID()
}

// Run reads src from where it stands (where this run last read it, else
// its checkpoint in the registry) until it ends: at the end of a finite
// source (a file), or when ctx ends for an endless one (a live channel,
// whose Next blocks until there are records). Every record's position goes
// with its document to the pipeline, and the registry stores it once the
// output acknowledged every document before it. It returns the source's
// fatal error (open, read, publish), or nil at its end or when ctx ends.
//
// Run may be called concurrently for different sources (one goroutine per
// live channel); the mapping is serialized between them. One source must
// not be run twice at once.
func (r *Runner) Run(ctx context.Context, src source.Source) error {
	id := src.ID()
	name := sourceName(src)
	rd, err := src.Open(ctx, r.startPosition(id))
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		r.count(func(s *Summary) { s.fileFailed(name, ErrorOpen, err) })
		return err
	}
	defer rd.Close()
	r.count(func(s *Summary) { s.Files++ })
	client := r.pipe.Client(id)
	var doc document.Document
	// Counts are kept locally and merged now and then: the summary's lock
	// and maps stay off the per-record path.
	var c fileCounts
	defer r.merge(&c)
	for rd.Next(ctx) {
		rec := rd.Record()
		c.records++
		if c.records%1024 == 0 {
			r.merge(&c)
		}
		r.mapMu.Lock()
		kind, err := r.mapper.Map(rec, &doc)
		if err != nil || kind == mapping.None {
			r.mapMu.Unlock()
			if err != nil {
				r.count(func(s *Summary) { s.recordErrors(name, ErrorMapping, 1) })
				r.log.Warnf("%s: record %d (event %d): %v", name, rec.RecordID, rec.EventID, err)
			} else {
				c.kinds[kind]++
			}
			continue
		}
		c.kinds[kind]++
		if r.observe != nil {
			r.observe(&doc)
		}
		p := rd.Position()
		ev := pipeline.Event{Index: r.mapper.Index(kind), ID: doc.Event.ID, Body: r.encode(&doc),
			Pos: pipeline.Position{Offset: p.Offset, Check: p.Check, Bookmark: p.Bookmark}}
		r.maybeSaveTracker(false)
		r.mapMu.Unlock()
		if err := client.Publish(ctx, ev); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("%s: record %d: %w", name, rec.RecordID, err)
		}
	}
	// Records a reader dropped before decoding (EVTX's filter) were read
	// too: count them so "records read" means the same for every format.
	if fr, ok := rd.(interface{ Filtered() int64 }); ok {
		n := fr.Filtered()
		c.records += n
		c.kinds[mapping.None] += n
	}
	if err := rd.Err(); err != nil {
		if errors.Is(err, source.ErrArchiveBomb) {
			// Counted once, for the archive, by replayFile.
			return err
		}
		r.count(func(s *Summary) { s.fileFailed(name, ErrorRead, err) })
		if !strings.HasPrefix(err.Error(), name) {
			err = fmt.Errorf("%s: %w", name, err)
		}
		return err
	}
	// A text export in which nothing decoded as an event was not what the
	// user meant to replay (or not what its name says); an EVTX file is a
	// Windows log by its header even when empty. Only a source read from
	// its start can tell.
	if ne, ok := rd.(interface{ NoEvents() bool }); ok && ne.NoEvents() && ctx.Err() == nil {
		r.count(func(s *Summary) { s.fileFailed(name, ErrorNoEvents, ErrNoEvents) })
		r.log.Errorf("%s: %v", name, ErrNoEvents)
	}
	if ctx.Err() == nil {
		// Read to its end: a later scan in this run continues from here,
		// past the records that gave no document, and not from the last
		// acknowledged one (which would publish the in-flight ones again).
		r.setReadPosition(id, rd.Position())
	}
	r.mapMu.Lock()
	r.maybeSaveTracker(true)
	r.mapMu.Unlock()
	return nil
}

// startPosition is where src resumes: where this run last read it, else
// its checkpoint.
func (r *Runner) startPosition(id string) source.Position {
	r.mu.Lock()
	p, ok := r.read[id]
	r.mu.Unlock()
	if ok {
		return p
	}
	if r.reg != nil {
		if cp, ok := r.reg.Position(id); ok {
			return source.Position{Offset: cp.Offset, Check: cp.Check, Bookmark: cp.Bookmark}
		}
	}
	return source.Position{}
}

func (r *Runner) setReadPosition(id string, p source.Position) {
	r.mu.Lock()
	r.read[id] = p
	r.mu.Unlock()
}

// fileError counts and reports an input that could not be read before any
// source was opened (an unreadable directory, a path that is not a regular
// file).
func (r *Runner) fileError(path string, err error) {
	r.count(func(s *Summary) { s.fileFailed(path, ErrorOpen, err) })
	r.log.Errorf("%v", err)
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
// checkpoint. mapMu is held.
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
