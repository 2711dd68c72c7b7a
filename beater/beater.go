package beater

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/esclient"
	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/hostmeta"
	"github.com/procbeat/procbeat/internal/fielderr"
	"github.com/procbeat/procbeat/logging"
	"github.com/procbeat/procbeat/module/process/enrich/image/winpath"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/merge"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/module/process/source/wineventlog"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/output/console"
	esout "github.com/procbeat/procbeat/output/elasticsearch"
	"github.com/procbeat/procbeat/output/file"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

// Beater is one assembled procbeat: output, pipeline, registry, tracker,
// mapping and the runner that feeds them.
type Beater struct {
	cfg      config.Config
	log      monitoring.Logger
	counters *monitoring.Counters
	reg      *registry.Registry
	pipe     *pipeline.Pipeline
	runner   *Runner
	http     *monitoring.Server
	metrics  *monitoring.Metrics
	reporter *monitoring.Reporter
	progress *Progress
	cancel   context.CancelFunc
	images   *images
	// aborted is set by Abort: Close then reports what it abandoned.
	aborted atomic.Bool
	out     pipeline.Output
	// deadLetterPath is output.elasticsearch's dead-letter file, if any.
	deadLetterPath string
	// lock is held on path.data while the registry is in use.
	lock *dataLock
	// journal keeps the process table in path.data (with the registry).
	journal *tracker.Journal
	// eventLog is what live inputs read (Options.EventLog).
	eventLog wineventlog.API
	// checkpoints are the pipeline's: the journal, then the registry.
	checkpoints pipeline.Checkpoints
}

// Options are what the command line adds to the configuration.
type Options struct {
	// Stdout receives documents when no output is configured.
	Stdout io.Writer
	// Resume keeps checkpoints in the registry and resumes from them. Off,
	// every run reads its files from the start and writes no registry.
	Resume bool
	// Codec overrides the output's codec (json or car) when set.
	Codec string
	// Now is event.created's clock; nil is time.Now.
	Now func() time.Time
	// Observe, when set, sees every document before it is published.
	Observe func(*document.Document)
	// Progress, when set, reports Replay's progress.
	Progress *Progress
	// DrainTimeout bounds how long Close waits for events in flight; zero
	// is the pipeline's default (30 s).
	DrainTimeout time.Duration
	// WrapES, when set, wraps the Elasticsearch output's client (health
	// tracking under Elastic Agent).
	WrapES func(esout.Transport) esout.Transport
	// EventLog, when set, is the event log live inputs read instead of
	// the system's (tests on any system).
	EventLog wineventlog.API
	// liveHost reads this host's metadata for its own events from the
	// start, even without a live input yet (NewManaged).
	liveHost bool
	// LiveRetry is the first wait before a managed input opens a channel
	// that failed (does not exist) again; it doubles up to a minute.
	// Zero is a second.
	LiveRetry time.Duration
	// ReadAgainForNewDestination (replay) reads every file again from the
	// start when the checkpoints in path.data were written for another
	// destination (destination.go); off (run), they are kept, as in Beats.
	ReadAgainForNewDestination bool
}

// New assembles a Beater from the configuration.
func New(ctx context.Context, cfg config.Config, log monitoring.Logger, o Options) (*Beater, error) {
	b, out, o, err := prepare(cfg, log, o)
	if err != nil {
		return nil, err
	}
	return b.assemble(ctx, out, o)
}

// prepare checks the codec and builds the configured output, for assemble.
func prepare(cfg config.Config, log monitoring.Logger, o Options) (*Beater, pipeline.Output, Options, error) {
	if err := checkCodec(cfg, o.Codec); err != nil {
		return nil, nil, o, err
	}
	b := &Beater{cfg: cfg, log: log, counters: &monitoring.Counters{}}
	out, codec, err := b.output(o)
	if err != nil {
		return nil, nil, o, err
	}
	if o.Codec == "" {
		o.Codec = codec
	}
	return b, out, o, nil
}

// NewWithOutput assembles a Beater that delivers to out instead of the
// configured output (tests, embedding).
func NewWithOutput(ctx context.Context, cfg config.Config, log monitoring.Logger, out pipeline.Output, o Options) (*Beater, error) {
	// out replaces the configured output, so only the name is checked.
	if err := checkCodec(config.Config{}, o.Codec); err != nil {
		return nil, err
	}
	b := &Beater{cfg: cfg, log: log, counters: &monitoring.Counters{}}
	return b.assemble(ctx, out, o)
}

func (b *Beater) assemble(ctx context.Context, out pipeline.Output, o Options) (_ *Beater, rerr error) {
	cfg, log := b.cfg, b.log
	b.progress = o.Progress
	b.out = out
	b.eventLog = o.EventLog
	// A failure closes the output (through the pipeline once there is
	// one), then lets the lock go.
	defer func() {
		if rerr == nil {
			return
		}
		if b.pipe != nil {
			b.pipe.Close()
		} else {
			out.Close()
		}
		_ = b.lock.release()
	}()
	labels, err := cfg.LabelValues()
	if err != nil {
		return nil, err
	}
	var id string
	if !o.Resume {
		id = replayAgentID(cfg.Path.Resolve(cfg.Path.Data), log)
	} else {
		path := filepath.Join(cfg.Path.Resolve(cfg.Path.Data), "registry.json")
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("path.data: %w", err)
		}
		if b.lock, err = lockDataPath(filepath.Dir(path), log); err != nil {
			return nil, err
		}
		if err := matchDestination(filepath.Dir(path), path, destinationOf(cfg, o.Codec), o.ReadAgainForNewDestination, log); err != nil {
			return nil, err
		}
		if id, err = agentID(filepath.Dir(path), log); err != nil {
			return nil, fmt.Errorf("path.data: %w", err)
		}
		b.reg, err = registry.OpenOrFresh(path, registry.Options{Logger: monitoring.Named(log, logging.SelectorRegistrar), Counters: b.counters})
		if err != nil {
			return nil, err
		}
	}
	tr := tracker.New(tracker.Options{MaxProcesses: cfg.Procbeat.Tracker.MaxProcesses})
	var cp pipeline.Checkpoints = discardCheckpoints{}
	if b.reg != nil {
		// The process table is kept beside the registry, journaled.
		if b.journal, err = openTrackerState(filepath.Dir(b.reg.Path()), tr, b.reg, log); err != nil {
			return nil, err
		}
		cp = &journaledCheckpoints{reg: b.reg, j: b.journal}
		b.checkpoints = cp
	}
	maxBytes := int64(0)
	if es := cfg.Output.Elasticsearch; es != nil && es.Enabled {
		maxBytes = int64(es.MaxBytesInFlight)
	}
	pctx, cancel := context.WithCancel(ctx)
	b.cancel = cancel
	b.pipe = pipeline.New(pctx, out, cp, pipeline.Options{MaxBytesInFlight: maxBytes, DrainTimeout: o.DrainTimeout, Counters: b.counters, Logger: monitoring.Named(log, logging.SelectorPublisher)})
	if b.images, err = newImages(cfg.Enrich, log); err != nil {
		return nil, err
	}
	h := cfg.Procbeat.Host
	mopts := mapping.Options{
		Namespace: cfg.Procbeat.Namespace,
		AgentID:   id,
		Host: mapping.Host{ID: h.ID, Architecture: h.Architecture, IP: h.IP, MAC: h.MAC,
			OSVersion: h.OSVersion, OSFull: h.OSFull, OSKernel: h.OSKernel, OSVariant: h.OSVariant,
			Name: localHostName()},
		Now: o.Now,
		// procbeat.host.id is this machine's: its own events carry it.
		HostIDs: cfg.Procbeat.HostIDs(),
		Images:  b.images.mapping(),
		Tags:    cfg.Tags,
		Labels:  document.NewRawObject(labels),
	}
	if hasLiveInput(cfg) || o.liveHost {
		// On a live host, its own metadata goes on its own events only;
		// its machine id is its host.id unless procbeat.host.id says
		// otherwise.
		meta := hostmeta.New(pctx, hostmeta.Options{Static: mopts.Host, Logger: log})
		if mopts.Host.ID == "" {
			mopts.Host.ID = meta.ID()
		}
		mopts.HostMeta = meta.Lookup
		go meta.Run(pctx, h.RefreshFrequency)
	}
	mapper := mapping.New(tr, mopts)
	b.runner, err = NewRunner(RunnerOptions{
		Source: sourceOptions(cfg), Mapper: mapper, Tracker: tr, Registry: b.reg,
		Pipeline: b.pipe, Codec: o.Codec, Observe: o.Observe, Logger: monitoring.Named(log, logging.SelectorInput), Counters: b.counters,
		Merge: &merge.Options{Tolerance: cfg.Procbeat.Merge.Tolerance, Window: cfg.Procbeat.Merge.Window,
			MaxHeld: cfg.Procbeat.Merge.MaxHeld, Link: !cfg.Procbeat.MergeSources},
	})
	if err != nil {
		return nil, err
	}
	if err := b.startMonitoring(pctx, id); err != nil {
		return nil, err
	}
	return b, nil
}

// output builds the configured output; without one, documents go to
// Stdout as NDJSON.
func (b *Beater) output(o Options) (pipeline.Output, string, error) {
	out := b.cfg.Output
	switch {
	case out.Elasticsearch != nil && out.Elasticsearch.Enabled:
		client, err := NewClient(out.Elasticsearch, esclient.WithLogger(logpOf(b.log)))
		if err != nil {
			return nil, "", err
		}
		oc := out.Elasticsearch.Config
		if oc.DeadLetterPath == "" {
			oc.DeadLetterPath = filepath.Join(b.cfg.Path.Resolve(b.cfg.Path.Data), "dead-letter.ndjson")
			if err := os.MkdirAll(filepath.Dir(oc.DeadLetterPath), 0o750); err != nil {
				return nil, "", fmt.Errorf("path.data: %w", err)
			}
		}
		b.deadLetterPath = oc.DeadLetterPath
		var tr esout.Transport = client
		if o.WrapES != nil {
			tr = o.WrapES(client)
		}
		out, err := esout.New(tr, oc, b.counters, monitoring.Named(b.log, logging.SelectorES))
		return out, CodecJSON, fielderr.Under("output.elasticsearch", err)
	case out.File != nil && out.File.Enabled:
		o, err := file.New(out.File.Config, b.counters, monitoring.Named(b.log, logging.SelectorFile))
		return o, out.File.Codec, fielderr.Under("output.file", err)
	default:
		w := o.Stdout
		if w == nil {
			w = os.Stdout
		}
		cn := config.DefaultConsole()
		if out.Console != nil {
			cn = *out.Console
		}
		return console.New(w, cn.Config, b.counters, monitoring.Named(b.log, logging.SelectorConsole)), cn.Codec, nil
	}
}

// ReplayDrainTimeout is how long a replay waits at the end for delivery: a
// replay is a batch job, so it outlasts one hung request (timeout) and the
// longest backoff after it, where a long-running shipper stops after 30 s.
func ReplayDrainTimeout(cfg config.Config) time.Duration {
	if es := cfg.Output.Elasticsearch; es != nil && es.Enabled {
		return 2*es.Timeout + es.Backoff.Max + 30*time.Second
	}
	return 0
}

// NewClient returns the client of output.elasticsearch: its settings
// validated and its TLS material read, nothing contacted yet.
func NewClient(es *config.Elasticsearch, opts ...esclient.Option) (*esclient.Client, error) {
	c, err := esclient.New(es.ClientConfig(), opts...)
	return c, fielderr.Under("output.elasticsearch", err)
}

// Check runs every check of the configuration that a run or a replay
// makes before it reads or sends anything, so that `procbeat test config`
// (which runs Check alone) refuses what they would: config.Validate (each
// section's own validation), then what New does with the settings: the
// output's client is built (its TLS material read, nothing contacted), the
// enrichment's trusted roots parsed and its image root opened. Every error
// is returned, each naming its key.
func Check(cfg config.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	var errs []error
	if es := cfg.Output.Elasticsearch; es != nil && es.Enabled {
		if _, err := NewClient(es); err != nil {
			errs = append(errs, err)
		}
	}
	if e := cfg.Enrich; e.Enabled {
		// The system's roots cannot fail (without them the pool is the
		// configured files'): only the configured files are checked.
		if _, err := trustedRoots(e, false); err != nil {
			errs = append(errs, err)
		}
		if e.ImageRoot != "" {
			img, err := winpath.NewImage(e.ImageRoot, e.Drives)
			if err != nil {
				errs = append(errs, fmt.Errorf("enrich.image_root: %w", err))
			} else {
				img.Close()
			}
		}
	}
	return errors.Join(errs...)
}

// Replay reads the files (directories and patterns expanded). A file that
// cannot be read is logged and counted and the others are still read; the
// error then says how many failed.
func (b *Beater) Replay(ctx context.Context, args []string) (Summary, error) {
	paths, err := b.runner.ExpandPaths(args)
	if err != nil {
		return Summary{}, err
	}
	if len(paths) == 0 {
		return Summary{}, ErrNoInput
	}
	var total int64
	sizes := make([]int64, len(paths))
	for i, p := range paths {
		if st, err := os.Stat(p); err == nil {
			sizes[i] = st.Size()
			total += st.Size()
		}
	}
	var filesDone atomic.Int64
	var bytesDone atomic.Int64
	if b.progress != nil {
		start := time.Now()
		pctx, stop := context.WithCancel(ctx)
		finished := make(chan struct{})
		defer func() { stop(); <-finished }()
		go func() {
			defer close(finished)
			b.progress.run(pctx, func() progressState {
				s := b.runner.Summary()
				return progressState{files: int(filesDone.Load()), filesTotal: len(paths), bytes: bytesDone.Load(), bytesTotal: total,
					records: s.Records, docs: s.Documents(), elapsed: time.Since(start)}
			})
		}()
	}
	// The files of hosts that log both Sysmon and Security are read
	// together, in event-time order, whatever order they were named in.
	together := b.runner.Declare(ctx, paths, source.FormatUnknown)
	failed := 0
	fail := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		failed++
		b.log.Errorf("%v", err)
		return nil
	}
	inGroup := make(map[string]bool, len(together))
	for i, err := range b.runner.ReplayTogether(ctx, together, source.FormatUnknown, nil, false) {
		inGroup[together[i]] = true
		filesDone.Add(1)
		if st, serr := os.Stat(together[i]); serr == nil {
			bytesDone.Add(st.Size())
		}
		if err != nil {
			if cerr := fail(err); cerr != nil {
				return b.runner.Summary(), cerr
			}
		}
	}
	if ctx.Err() != nil {
		return b.runner.Summary(), ctx.Err()
	}
	for i, p := range paths {
		if inGroup[p] {
			continue
		}
		err := b.replayPath(ctx, p)
		filesDone.Add(1)
		bytesDone.Add(sizes[i])
		if err != nil {
			if cerr := fail(err); cerr != nil {
				return b.runner.Summary(), cerr
			}
		}
	}
	// The end of the replay: no twin can come for what is still held.
	if err := b.runner.FlushHeld(ctx); err != nil {
		return b.runner.Summary(), err
	}
	if failed > 0 {
		return b.runner.Summary(), fmt.Errorf("%w: %d of %d files could not be read (see the log)", ErrInputErrors, failed, len(paths))
	}
	return b.runner.Summary(), nil
}

// Counters are the beater's monitoring counters.
func (b *Beater) Counters() *monitoring.Counters { return b.counters }

// Close drains the pipeline (acknowledged events advance the registry),
// logs the metrics' totals once everything is counted, and releases
// everything.
func (b *Beater) Close() error {
	err := b.pipe.Close()
	if b.reporter != nil {
		b.reporter.Stop()
	}
	b.cancel()
	b.images.close()
	// An Abort during the drain leaves events the pipeline does not count as
	// timed out; say how many the next run reads again.
	if n := b.counters.QueueDepth.Load(); err == nil && b.aborted.Load() && n > 0 {
		err = fmt.Errorf("stopped before delivery: %d events unacknowledged (read again by the next run)", n)
	}
	if b.journal != nil {
		// The pipeline's last checkpoint flushed it; this releases it.
		if jerr := b.journal.Close(); err == nil {
			err = jerr
		}
	}
	if lerr := b.lock.release(); err == nil {
		err = lerr
	}
	return err
}

// DiscardOutput acknowledges every event without sending it anywhere
// (coverage reports, dry runs).
type DiscardOutput struct{}

func (DiscardOutput) Limits() pipeline.Limits                         { return pipeline.Limits{} }
func (DiscardOutput) Publish(context.Context, []pipeline.Event) error { return nil }
func (DiscardOutput) Close() error                                    { return nil }

// discardCheckpoints is the checkpoint store of a run without a registry.
type discardCheckpoints struct{}

func (discardCheckpoints) Begin(pipeline.Position) pipeline.Ticket { return pipeline.Ticket{} }
func (discardCheckpoints) Done([]pipeline.Ticket)                  {}
func (discardCheckpoints) Flush() error                            { return nil }

// localHostName is this machine's name, whose events get procbeat.host.id;
// "" when the system cannot tell, and then no event is this machine's.
func localHostName() string {
	name, err := os.Hostname()
	if err != nil {
		return ""
	}
	return name
}
