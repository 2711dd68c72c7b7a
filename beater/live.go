package beater

import (
	"context"
	"sync"
	"time"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/module/process/source/wineventlog"
	"github.com/procbeat/procbeat/monitoring"
)

// LiveInput is the type of the inputs that read live event log channels.
const LiveInput = "wineventlog"

// LiveSources builds a wineventlog input's sources, one per channel, over
// api (nil: the system's event log). Off Windows the system's fails with
// wineventlog.ErrNotWindows. onError sees records that cannot be read.
func LiveSources(in config.Input, api wineventlog.API, imageLoads bool, log monitoring.Logger, counters *monitoring.Counters, onError func(*decode.RecordError)) ([]source.Source, error) {
	var out []source.Source
	for _, ch := range in.Channels {
		s, err := wineventlog.New(wineventlog.Config{Channel: ch, StartAt: in.StartAt, BatchSize: in.BatchSize, ImageLoads: imageLoads},
			wineventlog.Options{API: api, Logger: log, Counters: counters, Decode: decode.Options{OnError: onError}})
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

// startLive starts one goroutine per live channel, each reading its
// channel through Runner.Run until ctx ends. A channel that fails
// for good (it does not exist, access is denied) stops the whole run: the
// returned context ends and errs returns the first such error. stop cancels
// the channels and waits for them.
func (b *Beater) startLive(ctx context.Context, inputs []config.Input) (_ context.Context, stop func(), errs func() error, _ error) {
	var srcs []source.Source
	onError := func(e *decode.RecordError) { b.log.Warnf("%v", e) }
	for _, in := range inputs {
		// Image enrichment reads Sysmon's image loads too.
		s, err := LiveSources(in, b.eventLog, b.images.mapping() != nil, b.log, b.counters, onError)
		if err != nil {
			return nil, nil, nil, err
		}
		var sc *inputScope
		if in.Namespace != "" {
			sc = &inputScope{ns: in.Namespace}
		}
		for _, src := range s {
			srcs = append(srcs, inScope(src, sc))
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, s := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.runner.Run(ctx, s); err != nil && ctx.Err() == nil {
				once.Do(func() { first = err })
				cancel()
			}
		}()
	}
	if len(srcs) > 0 {
		// A record waiting for its twin from a quiet channel is let go
		// after the merge window of wall time.
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.runner.RunExpiry(ctx, time.Second)
		}()
	}
	stop = func() { cancel(); wg.Wait() }
	errs = func() error { stop(); return first }
	return ctx, stop, errs, nil
}
