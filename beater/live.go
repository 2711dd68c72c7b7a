package beater

import (
	"context"
	"fmt"
	"sync"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/module/process/source/wineventlog"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
)

// LiveInput is the type of the inputs that read live event log channels.
const LiveInput = "wineventlog"

// LiveSources builds a wineventlog input's sources, one per channel. Off
// Windows it fails with wineventlog.ErrNotWindows. onError sees records that
// cannot be read.
func LiveSources(in config.Input, log monitoring.Logger, counters *monitoring.Counters, onError func(*decode.RecordError)) ([]source.Source, error) {
	var out []source.Source
	for _, ch := range in.Channels {
		s, err := wineventlog.New(wineventlog.Config{Channel: ch, StartAt: in.StartAt, BatchSize: in.BatchSize},
			wineventlog.Options{Logger: log, Counters: counters, Decode: decode.Options{OnError: onError}})
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// hasLiveInput reports whether an enabled input reads live channels: then
// procbeat runs on the host whose events it reads, and reads its metadata.
func hasLiveInput(cfg config.Config) bool {
	for _, in := range cfg.Procbeat.Inputs {
		if in.Enabled && in.Type == LiveInput {
			return true
		}
	}
	return false
}

// runLive reads one live source until ctx ends: opened at its position in
// the registry, every record mapped and published with the position after
// it, which the registry stores once the output acknowledged everything up
// to it. It has a Mapper of its own (a Mapper is not safe for concurrent
// use; the tracker behind it is).
//
// Until the runner reads every kind of source through source.Source, this
// is the live channels' loop.
func (b *Beater) runLive(ctx context.Context, src source.Source) error {
	var pos source.Position
	if b.reg != nil {
		if p, ok := b.reg.Position(src.ID()); ok {
			pos = source.Position{Offset: p.Offset, Bookmark: p.Bookmark}
		}
	}
	rd, err := src.Open(ctx, pos)
	if err != nil {
		return err
	}
	defer rd.Close()
	mapper := mapping.New(b.tracker, b.mapOpts)
	client := b.pipe.Client(src.ID())
	var doc document.Document
	for rd.Next(ctx) {
		rec := rd.Record()
		b.counters.EventsRead.Add(1)
		kind, err := mapper.Map(rec, &doc)
		if err != nil {
			b.runner.count(func(s *Summary) { s.Errors["mapping"]++ })
			b.log.Warnf("%s: record %d (event %d): %v", src.ID(), rec.RecordID, rec.EventID, err)
			continue
		}
		if kind == mapping.None {
			continue
		}
		p := rd.Position()
		ev := pipeline.Event{Index: mapper.Index(kind), ID: doc.Event.ID, Body: b.runner.encode(&doc),
			Pos: pipeline.Position{Offset: p.Offset, Bookmark: p.Bookmark}}
		if err := client.Publish(ctx, ev); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("%s: record %d: %w", src.ID(), rec.RecordID, err)
		}
	}
	return rd.Err()
}

// startLive starts one goroutine per live channel. A channel that fails
// for good (it does not exist, access is denied) stops the whole run: the
// returned context ends and errs returns the first such error. stop cancels
// the channels and waits for them.
func (b *Beater) startLive(ctx context.Context, inputs []config.Input) (_ context.Context, stop func(), errs func() error, _ error) {
	var srcs []source.Source
	onError := func(e *decode.RecordError) { b.log.Warnf("%v", e) }
	for _, in := range inputs {
		s, err := LiveSources(in, b.log, b.counters, onError)
		if err != nil {
			return nil, nil, nil, err
		}
		srcs = append(srcs, s...)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, s := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.runLive(ctx, s); err != nil && ctx.Err() == nil {
				once.Do(func() { first = err })
				cancel()
			}
		}()
	}
	stop = func() { cancel(); wg.Wait() }
	errs = func() error { stop(); return first }
	return ctx, stop, errs, nil
}
