// Package beater wires procbeat together: sources feed the mapping, the
// mapping feeds the pipeline, the pipeline's acknowledgements advance the
// registry, and the process tracker is saved with the registry so that a
// replay split across runs keeps its ancestry.
package beater

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/procbeat/procbeat/codec/car"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/merge"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
	"github.com/procbeat/procbeat/winevent"
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
	// for concurrent use) when several sources run at once (live
	// channels).
	mapMu sync.Mutex
	// merger pairs Sysmon and Security records of one process event
	// (nil: every record is published on its own); under mergeMu. It is
	// fed by the publishers (publish.go), in mapping order, so that it
	// works beside the mapping when there are two cores.
	merger  *merge.Merger[pipeline.Ticket]
	mergeMu sync.Mutex
	// arena holds the bodies of the documents release lets go until the
	// output is done with them; under mergeMu. Run and RunTogether encode
	// into their publisher's own.
	arena *pipeline.Arena

	mu      sync.Mutex
	summary Summary
	read    map[string]source.Position // where each source read to in this run
	walk    walkFS                     // nil: the OS (tests inject failures)
	// identify is a file's native identity; nil: source.IdentityOf
	// (tests give files the identities they need).
	identify func(path string, st fs.FileInfo) (source.Identity, error)
	// spareStage is a finished publisher's queue (publish.go).
	spareStage stage
	// warners are the running sources' record-warning caps, by the name
	// decoders give their errors (see Run).
	warners map[string]*fileWarner
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
	// Merge, when set, pairs the Sysmon and Security records of one
	// process start or end (procbeat.merge_sources, procbeat.merge).
	Merge *merge.Options
}

// NewRunner returns a Runner. The tracker's state is loaded and journaled
// by the Beater (trackerstate.go), with the checkpoints.
func NewRunner(o RunnerOptions) (*Runner, error) {
	if o.Logger == nil {
		o.Logger = monitoring.NopLogger{}
	}
	if o.Counters == nil {
		o.Counters = &monitoring.Counters{}
	}
	r := &Runner{opts: o.Source, mapper: o.Mapper, tracker: o.Tracker, reg: o.Registry, pipe: o.Pipeline,
		codec: o.Codec, observe: o.Observe, log: o.Logger, counters: o.Counters, summary: newSummary(),
		read: map[string]source.Position{}, warners: map[string]*fileWarner{}}
	if o.Merge != nil {
		r.merger = merge.New[pipeline.Ticket](*o.Merge)
	}
	r.arena = o.Pipeline.Arena()
	// Only the records the mapping wants are decoded from EVTX (image
	// loads only when enrichment reads them).
	r.opts.Filter = o.Mapper.Wants
	r.opts.Notice = func(msg string) { r.log.Warnf("%s", msg) }
	r.opts.Decode.OnError = func(e *decode.RecordError) {
		// e.File names the source as messages do: a path, or an
		// archive:member.
		if errors.Is(e, decode.ErrTruncated) {
			// An export cut inside its container: the file, not a
			// record, ends early, as a cut EVTX file does (a read
			// error, its reason in the summary).
			var why error = e.Err // the list names the file
			if e.Line > 0 {
				why = fmt.Errorf("line %d%s: %w", e.Line, decode.ResumedNote(e.From), e.Err)
			}
			r.count(func(s *Summary) { s.fileFailed(e.File, ErrorRead, why) })
		} else {
			r.count(func(s *Summary) { s.recordErrors(e.File, ErrorDecode, 1) })
		}
		r.warnDecode(e.File, e)
	}
	return r, nil
}

// sourceOptions are the file sources' settings from the configuration.
func sourceOptions(cfg config.Config) source.Options {
	a := cfg.Procbeat.Archives
	o := source.Options{Archive: source.ArchiveLimits{MaxBytes: a.MaxUncompressedBytes, MaxRatio: a.MaxRatio, MaxDepth: a.MaxDepth}}
	// Validate refused a timezone that does not load.
	o.Decode.Location, _ = cfg.Procbeat.Location()
	return o
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
	return r.replayFile(ctx, path, source.FormatUnknown, nil, false)
}

// replayFile is ReplayFile with the format forced (an input's type), or
// detected per file when it is FormatUnknown.
// Its sources are read for the input of scope sc (nil: none); growing
// says the file may still be written to (a scan of procbeat run:
// source.Options.Growing).
func (r *Runner) replayFile(ctx context.Context, path string, format source.Format, sc *inputScope, growing bool) error {
	opts := r.opts
	opts.Format = format
	opts.Growing = growing
	if source.ArchiveKind(path) == "" {
		return r.run(ctx, inScope(source.NewFile(path, opts), sc), true)
	}
	err := source.WalkArchive(ctx, path, opts, func(s source.Source) error {
		if err := r.run(ctx, inScope(s, sc), true); err != nil {
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
	return r.run(ctx, src, false)
}

// run is Run; finite says src ends (a file), so that its documents may
// wait for others before they go to the publisher goroutine.
func (r *Runner) run(ctx context.Context, src source.Source, finite bool) error {
	rs, err := r.open(ctx, src)
	if rs == nil {
		return err
	}
	p := r.newPublisher(ctx, finite)
	defer p.close()
	rs.use(p)
	for rs.rd.Next(ctx) {
		if stop, err := r.step(ctx, rs); stop {
			rs.close(r)
			return err
		}
	}
	return r.finish(ctx, rs)
}

// reading is one source being read: its reader, publisher and counts.
type reading struct {
	id, name string
	rd       source.Reader
	client   *pipeline.Client
	// Counts are kept locally and merged now and then: the summary's lock
	// and maps stay off the per-record path.
	c fileCounts
	// pub publishes the documents (in mapping order).
	pub *publisher
	// warn caps the source's record warnings (warncap.go).
	warn *fileWarner
	// ns is the source's data stream namespace ("": the mapper's).
	ns string
	pubState
}

// use makes p the reading's publisher.
func (rs *reading) use(p *publisher) { rs.pub = p }

// published waits for the reading's queued documents, and returns the
// error that stops the source when one failed to publish (nil when ctx
// ended: a stop is no failure).
func (rs *reading) published(ctx context.Context) (failed bool, _ error) {
	rs.pub.flush()
	rs.inflight.Wait()
	return rs.failed(ctx)
}

// failed reports a publish failure the publisher has seen so far.
func (rs *reading) failed(ctx context.Context) (bool, error) {
	if !rs.pubFailed.Load() {
		return false, nil
	}
	if ctx.Err() != nil {
		return true, nil
	}
	return true, fmt.Errorf("%s: record %d: %w", rs.name, rs.pubRecord, rs.pubErr)
}

func (rs *reading) close(r *Runner) {
	rs.pub.flush()
	rs.inflight.Wait()
	r.merge(&rs.counts)
	r.merge(&rs.c)
	rs.warn.finish()
	rs.rd.Close()
}

// open opens src where it stands. A nil reading means it did not open:
// the error, or nil when ctx ended.
func (r *Runner) open(ctx context.Context, src source.Source) (*reading, error) {
	rs := &reading{id: src.ID(), name: sourceName(src), ns: namespaceOf(src)}
	start, checkpoint := r.startPosition(rs.id)
	rd, err := src.Open(ctx, start)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil
		}
		r.count(func(s *Summary) { s.fileFailed(rs.name, ErrorOpen, err) })
		return nil, err
	}
	rs.rd = rd
	r.log.Debugf("opened %s, reading %s", rs.name, startPlace(rd, start))
	rs.warn = r.newWarner(rs.name)
	r.count(func(s *Summary) {
		s.Files++
		if checkpoint {
			s.Resumed++
		}
	})
	rs.client = r.pipe.Client(rs.id)
	return rs, nil
}

// step maps and publishes the reader's current record. stop says the
// source must end here: with err, or nil when ctx ended.
func (r *Runner) step(ctx context.Context, rs *reading) (stop bool, _ error) {
	rec := rs.rd.Record()
	c := &rs.c
	c.records++
	if c.records%1024 == 0 {
		r.merge(c)
	}
	r.mapMu.Lock()
	doc := rs.pub.doc()
	kind, err := r.mapper.Map(rec, doc)
	if err != nil && mapping.Omitted(err) {
		// A value left out of a document that is still published: the
		// file's values are reported as the input errors they are.
		r.count(func(s *Summary) { s.recordErrors(rs.name, ErrorValue, 1) })
		rs.warn.Warnf("%s: %v (left out of its document)", recordPlace(rs, rec), err)
		err = nil
	}
	if err != nil || kind == mapping.None {
		r.mapMu.Unlock()
		if err != nil {
			r.count(func(s *Summary) { s.recordErrors(rs.name, ErrorMapping, 1) })
			rs.warn.Warnf("%s: %v", recordPlace(rs, rec), err)
		} else {
			c.kinds[kind]++
		}
		return false, nil
	}
	if rs.ns != "" {
		doc.DataStream.Namespace = rs.ns
	}
	var pos pipeline.Position
	if r.reg != nil {
		// Only checkpoints use it: without them an EVTX source is spared
		// the scan of its chunk headers that its positions need (2% of a
		// replay's CPU on a 270 MB file), unless asked at its end.
		p := rs.rd.Position()
		pos = pipeline.Position{Offset: p.Offset, Check: p.Check, Bookmark: p.Bookmark}
	}
	j := pubJob{rs: rs, kind: kind, record: rec.RecordID, pos: pos}
	if r.merger != nil {
		// The record's ticket is taken now, in its source's order: while
		// the merger holds it the source's checkpoint stays before it.
		j.t[0], j.n = rs.client.Reserve(pos), 1
		j.merge = true
		j.logged, j.image = rec.TimeCreated, r.mapper.RecordImage(rec)
	}
	rs.pub.queue(j)
	r.mapMu.Unlock()
	return rs.failed(ctx)
}

// recordPlace names rec, the current record of rs, in messages: by line
// and index in an export (with its EventRecordID when it has one), by
// EventRecordID in an EVTX file or a channel.
func recordPlace(rs *reading, rec *winevent.Record) string {
	if l, ok := rs.rd.(source.Locator); ok {
		line, index, from := l.Where()
		at := rs.name
		if line > 0 {
			at = fmt.Sprintf("%s:%d", rs.name, line)
		}
		place := fmt.Sprintf("%s%s: record %d", at, decode.ResumedNote(from), index)
		if rec.RecordID != 0 {
			return fmt.Sprintf("%s (event %d, EventRecordID %d)", place, rec.EventID, rec.RecordID)
		}
		return fmt.Sprintf("%s (event %d)", place, rec.EventID)
	}
	return fmt.Sprintf("%s: record %d (event %d)", rs.name, rec.RecordID, rec.EventID)
}

// finish ends a source read to its end (or to ctx's): its read error, its
// counts, where a later scan continues.
func (r *Runner) finish(ctx context.Context, rs *reading) error {
	defer rs.close(r)
	if stop, err := rs.published(ctx); stop {
		// As when a record's publishing stops the source.
		return err
	}
	rd, c, name := rs.rd, &rs.c, rs.name
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
		r.setReadPosition(rs.id, rd.Position())
	}
	return nil
}

// RunTogether reads finite sources as one stream, record by record in the
// order of their System/TimeCreated (ties by source id), as the host wrote
// them. A replay reads the Sysmon and Security logs of one machine so:
// twins come moments apart whatever order the files were named in, and
// everything order-dependent (twins, the process table) comes out the same
// for the files in any order or the directory holding them. It returns
// each source's error, in srcs' order.
func (r *Runner) RunTogether(ctx context.Context, srcs []source.Source) []error {
	errs := make([]error, len(srcs))
	p := r.newPublisher(ctx, true)
	defer p.close()
	var live []*reading
	idx := map[*reading]int{}
	for i, src := range srcs {
		rs, err := r.open(ctx, src)
		if rs == nil {
			errs[i] = err
			continue
		}
		idx[rs] = i
		rs.use(p)
		if rs.rd.Next(ctx) {
			live = append(live, rs)
		} else {
			errs[i] = r.finish(ctx, rs)
		}
	}
	for len(live) > 0 {
		m := 0
		for i := 1; i < len(live); i++ {
			a, b := live[i].rd.Record().TimeCreated, live[m].rd.Record().TimeCreated
			if a.Before(b) || (a.Equal(b) && live[i].id < live[m].id) {
				m = i
			}
		}
		rs := live[m]
		stop, err := r.step(ctx, rs)
		if !stop && rs.rd.Next(ctx) {
			continue
		}
		if stop {
			rs.close(r)
			errs[idx[rs]] = err
		} else {
			errs[idx[rs]] = r.finish(ctx, rs)
		}
		live = append(live[:m], live[m+1:]...)
		if ctx.Err() != nil {
			for _, rs := range live {
				rs.close(r)
			}
			return errs
		}
	}
	return errs
}

// released observes and encodes, into a, a document the merger lets go
// for the records of acks.
func (r *Runner) released(a *pipeline.Arena, kind mapping.Kind, d *document.Document, acks []pipeline.Ticket) pipeline.Event {
	if r.observe != nil {
		r.observe(d)
	}
	return r.event(a, kind, d, pipeline.Position{Source: acks[0].Source})
}

// declarePeek is how many records of a file Declare reads: an EVTX file
// yields only the wanted ones (the first tells), an export of several
// channels needs a few more.
const declarePeek = 256

// Declare tells the merger which hosts log which of Sysmon and Security in
// the files about to be read, from their first records, so that a Sysmon
// log read before the Security log of the same machine (or after it)
// waits for its twins, while a host that logs only one of them holds
// nothing back. It returns the files with records of a host that logs
// both, to be read together (RunTogether). An archive's members are
// peeked at as files are (a collection zipped is read as it is
// extracted), but an archive is read in one pass, so it is never among
// the files read together; unreadable files are reported when they are
// read.
func (r *Runner) Declare(ctx context.Context, paths []string, format source.Format) (together []string) {
	if r.merger == nil {
		return nil
	}
	opts := r.opts
	opts.Format = format
	opts.Notice = func(string) {}
	opts.Decode.OnError = nil
	type hostProvider struct{ host, provider string }
	seen := map[hostProvider]bool{}
	hostsOf := make([]map[string]bool, len(paths))
	peek := func(i int, src source.Source) {
		rd, err := src.Open(ctx, source.Position{})
		if err != nil {
			return
		}
		defer rd.Close()
		for n := 0; n < declarePeek && rd.Next(ctx); n++ {
			rec := rd.Record()
			if rec.Provider != winevent.ProviderSysmon && rec.Provider != winevent.ProviderSecurity {
				continue
			}
			hp := hostProvider{strings.ToLower(rec.Computer), rec.Provider}
			seen[hp] = true
			if hostsOf[i] == nil {
				hostsOf[i] = map[string]bool{}
			}
			hostsOf[i][hp.host] = true
			r.mergeMu.Lock()
			r.merger.Declare(hp.host, hp.provider)
			r.mergeMu.Unlock()
		}
	}
	for i, path := range paths {
		if ctx.Err() != nil {
			break
		}
		if source.ArchiveKind(path) == "" {
			peek(i, source.NewFile(path, opts))
			continue
		}
		// Errors (and bombs) are the replay's to report.
		_ = source.WalkArchive(ctx, path, opts, func(s source.Source) error {
			peek(i, s)
			return nil
		})
		hostsOf[i] = nil // declared, but never read together
	}
	both := func(host string) bool {
		return seen[hostProvider{host, winevent.ProviderSysmon}] && seen[hostProvider{host, winevent.ProviderSecurity}]
	}
	for i, hosts := range hostsOf {
		for h := range hosts {
			if both(h) {
				together = append(together, paths[i])
				break
			}
		}
	}
	return together
}

// ExpireHeld publishes, alone, the records held for longer than the merge
// window of wall time (merge.Merger.Expire): on live channels a record
// whose twin's channel is quiet, or does not log the process, waits no
// longer than that.
func (r *Runner) ExpireHeld(ctx context.Context) error {
	if r.merger == nil {
		return nil
	}
	return r.release(ctx, r.merger.Expire, false)
}

// release publishes what f (the merger's Flush or Expire) lets go, as it
// lets it go, under mergeMu as the publishers do (emitMerged): gathering
// a full hold's documents first had every body of it encoded, and held in
// the arena, before the first was written. A document that fails to
// publish stays held with those after it (merge.Emit). With parallel
// (Flush) and many records held, helpers encode them (flush.go).
func (r *Runner) release(ctx context.Context, f func(merge.Emit[pipeline.Ticket]) error, parallel bool) error {
	var c fileCounts
	defer r.merge(&c)
	r.mergeMu.Lock()
	defer r.mergeMu.Unlock()
	if n := flushers(r.merger.Len()); parallel && n > 0 {
		pf := r.newParallelFlush(ctx, n, &c)
		return pf.finish(f(pf.emit))
	}
	return f(func(kind mapping.Kind, d *document.Document, acks []pipeline.Ticket) error {
		if err := r.pipe.PublishReserved(ctx, r.released(r.arena, kind, d, acks), acks...); err != nil {
			return err
		}
		// Counted once published: a document refused at SIGINT is not one.
		c.kinds[kind]++
		return nil
	})
}

// RunExpiry calls ExpireHeld every period until ctx ends; sources that
// never end (live channels) run with it, so that the merge adds at most
// the window plus period of latency to a record without a twin.
func (r *Runner) RunExpiry(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.ExpireHeld(ctx); err != nil && ctx.Err() == nil {
				r.log.Errorf("publishing held records: %v", err)
			}
		}
	}
}

// ReplayTogether reads files (not archives) with RunTogether, their
// format forced (an input's type) or detected per file (FormatUnknown),
// read for the input of scope sc (nil: none); growing as for replayFile.
func (r *Runner) ReplayTogether(ctx context.Context, paths []string, format source.Format, sc *inputScope, growing bool) []error {
	opts := r.opts
	opts.Format = format
	opts.Growing = growing
	srcs := make([]source.Source, len(paths))
	for i, p := range paths {
		srcs[i] = inScope(source.NewFile(p, opts), sc)
	}
	return r.RunTogether(ctx, srcs)
}

// FlushHeld publishes, alone, every record still waiting for its twin: at
// the end of a replay and of each scan of the inputs, where no twin can
// come any more (or it comes in a later scan, too late to be held for).
// Records dropped instead (a stop before) were never acknowledged and are
// read again after a restart.
func (r *Runner) FlushHeld(ctx context.Context) error {
	if r.merger == nil {
		return nil
	}
	return r.release(ctx, r.merger.Flush, true)
}

// startPosition is where src resumes: where this run last read it, else
// its checkpoint (then checkpoint is true).
func (r *Runner) startPosition(id string) (p source.Position, checkpoint bool) {
	r.mu.Lock()
	p, ok := r.read[id]
	r.mu.Unlock()
	if ok {
		return p, false
	}
	if r.reg != nil {
		if cp, ok := r.reg.Position(id); ok {
			p = source.Position{Offset: cp.Offset, Check: cp.Check, Bookmark: cp.Bookmark}
			return p, !p.IsZero()
		}
	}
	return source.Position{}, false
}

// forgetFile drops what is kept of path, a file that is gone: its read
// position, its checkpoint (and an archive's, its members'), unless
// something of it is still in flight.
func (r *Runner) forgetFile(path string) {
	id, members := source.ID(path), source.ArchiveMemberPrefix(path)
	of := func(s string) bool { return s == id || strings.HasPrefix(s, members) }
	r.mu.Lock()
	for s := range r.read {
		if of(s) {
			delete(r.read, s)
		}
	}
	r.mu.Unlock()
	if r.reg != nil {
		r.reg.Forget(of)
	}
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

// event renders the document for the output. The body goes into a, the
// pipeline's arena, which recycles it once the output is done with it: no
// buffer per document.
func (r *Runner) event(a *pipeline.Arena, kind mapping.Kind, d *document.Document, pos pipeline.Position) pipeline.Event {
	ev := pipeline.Event{Index: r.mapper.IndexIn(kind, d.DataStream.Namespace), ID: d.Event.ID, Pos: pos}
	// A newline after each body lets NDJSON outputs write runs of bodies
	// without copying them (pipeline.WriteLines).
	if r.codec == CodecCAR {
		a.SetLine(&ev, append(car.Append(a.Room(), d), '\n'))
	} else {
		a.SetLine(&ev, append(d.AppendJSON(a.Room()), '\n'))
	}
	return ev
}

// fileCounts are one file's counts not yet merged into the summary.
type fileCounts struct {
	records int64
	kinds   [4]int64 // by mapping.Kind
}

// merge adds c to the summary and the read counter, and zeroes c.
func (r *Runner) merge(c *fileCounts) {
	r.counters.EventsRead.Add(uint64(c.records))
	r.mu.Lock()
	s := &r.summary
	s.Records += c.records
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
