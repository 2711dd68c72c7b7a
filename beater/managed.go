package beater

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/monitoring"
	esout "github.com/procbeat/procbeat/output/elasticsearch"
	"github.com/procbeat/procbeat/pipeline"
)

// Managed is a Beater reconfigured while it runs, as a manager (Elastic
// Agent) asks: inputs start and stop one by one, and the output is replaced
// while the pipeline keeps the events not yet acknowledged. It knows nothing
// of the manager's protocol.
type Managed struct {
	b    *Beater
	out  *switchOutput
	opts Options
	ctx  context.Context

	health *esHealth
	// deadBase is the dead-letter count when the output was last set.
	deadBase uint64

	// scanMu serializes the inputs' scans: the runner, the mapper and the
	// tracker are one, shared, single-threaded chain.
	scanMu sync.Mutex

	mu     sync.Mutex
	inputs map[string]*managedInput
}

type managedInput struct {
	in     config.Input
	scope  *inputScope
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	// problems are the last scan's: files or directories not readable.
	problems []error
	// channels are the live channels that failed and are not read, by
	// source id, with their error.
	channels map[string]error
}

// NewManaged assembles a Beater with cfg's output and no input running;
// checkpoints are always kept (an input stopped and started again resumes).
func NewManaged(ctx context.Context, cfg config.Config, log monitoring.Logger, o Options) (*Managed, error) {
	m := &Managed{health: &esHealth{}, inputs: map[string]*managedInput{}, ctx: ctx}
	o.Resume = true
	o.WrapES = m.health.wrap
	// Live inputs come with units at any time, after the mapping is made:
	// where they can run (Windows, or an event log a test supplies), this
	// host's metadata goes on its own events from the start, as it does
	// when procbeat.yml has a live input.
	o.liveHost = runtime.GOOS == "windows" || o.EventLog != nil
	b, out, o, err := prepare(cfg, log, o)
	if err != nil {
		return nil, err
	}
	m.out = newSwitchOutput(out)
	if m.b, err = b.assemble(ctx, m.out, o); err != nil {
		return nil, err
	}
	m.opts = o
	return m, nil
}

// Counters are the beater's monitoring counters.
func (m *Managed) Counters() *monitoring.Counters { return m.b.counters }

// ReplaceOutput connects to out's output; batches in delivery are sent
// again to it, and nothing acknowledged is lost or sent twice.
func (m *Managed) ReplaceOutput(out config.Output) error {
	cfg := m.b.cfg
	cfg.Output = out
	nb := &Beater{cfg: cfg, log: m.b.log, counters: m.b.counters}
	o, _, err := nb.output(m.opts)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.b.cfg.Output = out
	m.b.deadLetterPath = nb.deadLetterPath
	m.deadBase = m.b.counters.EventsDeadLettered.Load()
	m.mu.Unlock()
	m.health.reset()
	return m.out.Replace(o)
}

// KeepsBatching reports whether out batches as the running output does:
// the pipeline takes bulk_max_size, bulk_max_bytes, worker, flush_interval
// and max_bytes_in_flight from the first output for its whole life, so an
// output differing in them needs a new Managed rather than ReplaceOutput.
func (m *Managed) KeepsBatching(out config.Output) bool {
	m.mu.Lock()
	cur := m.b.cfg.Output.Elasticsearch
	m.mu.Unlock()
	next := out.Elasticsearch
	if cur == nil || next == nil {
		return cur == next
	}
	return cur.BulkMaxSize == next.BulkMaxSize && cur.BulkMaxBytes == next.BulkMaxBytes && cur.Workers == next.Workers &&
		cur.FlushInterval == next.FlushInterval && cur.MaxBytesInFlight == next.MaxBytesInFlight
}

// StartInput runs in under id until StopInput(id); an input already
// running under id with another configuration is stopped first. It resumes
// every file, or channel, from its checkpoint.
func (m *Managed) StartInput(id string, in config.Input) error {
	var (
		run    func(context.Context, *managedInput)
		format source.Format
	)
	if in.Type == LiveInput {
		srcs, err := LiveSources(in, m.b.eventLog, m.b.images.mapping() != nil, m.b.log, m.b.counters,
			func(e *decode.RecordError) { m.b.log.Warnf("%v", e) })
		if err != nil {
			return err
		}
		run = func(ctx context.Context, mi *managedInput) {
			for i, s := range srcs {
				srcs[i] = inScope(s, mi.scope)
			}
			m.runLive(ctx, mi, srcs)
		}
	} else {
		var err error
		if format, err = source.ParseFormat(in.Type); err != nil {
			return err
		}
		run = func(ctx context.Context, mi *managedInput) { m.runInput(ctx, mi, format) }
	}
	m.mu.Lock()
	cur, ok := m.inputs[id]
	m.mu.Unlock()
	if ok {
		if sameInput(cur.in, in) {
			return nil
		}
		if err := m.StopInput(id); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(m.ctx)
	mi := &managedInput{in: in, scope: &inputScope{ns: in.Namespace, record: true}, cancel: cancel, done: make(chan struct{})}
	m.mu.Lock()
	m.inputs[id] = mi
	m.mu.Unlock()
	go func() {
		defer close(mi.done)
		run(ctx, mi)
	}()
	return nil
}

func sameInput(a, b config.Input) bool {
	return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}

// runInput scans in's files now and every procbeat.scan_frequency, as Run
// does for every input.
func (m *Managed) runInput(ctx context.Context, mi *managedInput, format source.Format) {
	seen := m.b.lastReads()
	waiting := map[string]bool{} // renames waiting to move (Beater.scan)
	problems := m.b.scanProblems()
	var walkErrs []error
	logOnce := problems.errorf
	problems.errorf = func(path string, err error) {
		logOnce(path, err)
		walkErrs = append(walkErrs, err)
	}
	tick := time.NewTicker(m.b.cfg.Procbeat.ScanFrequency)
	defer tick.Stop()
	for {
		m.scanMu.Lock()
		if ctx.Err() == nil {
			walkErrs = walkErrs[:0]
			clear(waiting)
			failed := m.b.scan(ctx, mi.in.Paths, format, mi.scope, seen, waiting, problems)
			mi.mu.Lock()
			mi.problems = append(slices.Clone(walkErrs), failed...)
			mi.mu.Unlock()
		}
		m.scanMu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// runLive reads the input's channels until ctx ends, one goroutine each.
// Unlike a standalone run, where a channel that does not exist stops
// procbeat, a managed input keeps trying such a channel (Sysmon may be
// installed later) with backoff; until it opens, its error is the input's
// health.
func (m *Managed) runLive(ctx context.Context, mi *managedInput, srcs []source.Source) {
	var wg sync.WaitGroup
	for _, s := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.runChannel(ctx, mi, s)
		}()
	}
	// A record waiting for its twin from a quiet channel is let go after
	// the merge window of wall time.
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.b.runner.RunExpiry(ctx, time.Second)
	}()
	wg.Wait()
}

// Bounds of the wait before a channel that failed is opened again.
const (
	liveRetryInit = time.Second
	liveRetryMax  = time.Minute
)

func (m *Managed) runChannel(ctx context.Context, mi *managedInput, s source.Source) {
	first := liveRetryInit
	if m.opts.LiveRetry > 0 {
		first = m.opts.LiveRetry
	}
	wait := first
	w := &watchedSource{Source: s, opened: func() {
		mi.setChannelErr(s.ID(), nil)
		wait = first
	}}
	for ctx.Err() == nil {
		err := m.b.runner.Run(ctx, w)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			// A live channel's reader ends only with ctx or an error; one
			// that ended anyway is read again.
			err = fmt.Errorf("wineventlog: %s: the subscription ended", s.ID())
		}
		mi.setChannelErr(s.ID(), err)
		m.b.log.Warnf("%v; trying again in %s", err, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, liveRetryMax)
	}
}

// watchedSource tells when its source opens: the channel exists and may be
// read, and the input is healthy again.
type watchedSource struct {
	source.Source
	opened func()
}

// Namespace and String are the source's (the runner reads them).
func (w *watchedSource) Namespace() string { return namespaceOf(w.Source) }
func (w *watchedSource) String() string    { return sourceName(w.Source) }

func (w *watchedSource) Open(ctx context.Context, pos source.Position) (source.Reader, error) {
	rd, err := w.Source.Open(ctx, pos)
	if err == nil {
		w.opened()
	}
	return rd, err
}

func (mi *managedInput) setChannelErr(id string, err error) {
	mi.mu.Lock()
	defer mi.mu.Unlock()
	if err == nil {
		delete(mi.channels, id)
		return
	}
	if mi.channels == nil {
		mi.channels = map[string]error{}
	}
	mi.channels[id] = err
}

// StopInput stops the input, waits until every event it published is
// acknowledged (or the drain timeout passes) and writes the checkpoints,
// so that starting it again resumes exactly after what was delivered. It
// waits for this input's events only: the other inputs keep publishing.
func (m *Managed) StopInput(id string) error {
	m.mu.Lock()
	mi, ok := m.inputs[id]
	delete(m.inputs, id)
	others := len(m.inputs)
	m.mu.Unlock()
	if !ok {
		return nil
	}
	mi.cancel()
	<-mi.done
	timeout := m.opts.DrainTimeout
	if timeout <= 0 {
		timeout = pipeline.DefaultDrainTimeout
	}
	deadline := time.Now().Add(timeout)
	if others == 0 {
		// Records of this input held for a twin would be let go by the
		// next scan or expiry of another input; there is none. Publishing
		// them waits for room in the pipeline, up to the drain timeout.
		ctx, cancel := context.WithDeadline(m.ctx, deadline)
		err := m.b.runner.FlushHeld(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("publishing the records held for their twins: %w; they will be read again when the input starts", err)
		}
	}
	return m.drain(mi.scope.sources(), deadline, timeout)
}

// drain waits until the events of these sources are acknowledged and
// checkpointed (a twin held for a record of another input passes with
// that input's next scan or expiry), up to the deadline, then writes the
// checkpoints.
func (m *Managed) drain(sources []string, deadline time.Time, timeout time.Duration) error {
	for n := m.b.reg.Pending(sources...); n > 0; n = m.b.reg.Pending(sources...) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d events still unacknowledged after %s; they will be sent again when the input starts", n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return m.b.checkpoints.Flush()
}

// InputHealth returns what kept the input's last scan from reading every
// file (nil when it read them all, or when no input runs under id).
func (m *Managed) InputHealth(id string) error {
	m.mu.Lock()
	mi := m.inputs[id]
	m.mu.Unlock()
	if mi == nil {
		return nil
	}
	mi.mu.Lock()
	defer mi.mu.Unlock()
	problems := mi.problems
	if len(mi.channels) > 0 {
		problems = nil
		for _, id := range slices.Sorted(maps.Keys(mi.channels)) {
			problems = append(problems, mi.channels[id])
		}
	}
	switch n := len(problems); {
	case n == 0:
		return nil
	case n <= 3:
		return errors.Join(problems...)
	default:
		return fmt.Errorf("%w (and %d more files or directories not read)", errors.Join(problems[:3]...), n-3)
	}
}

// Inputs returns the ids of the inputs running.
func (m *Managed) Inputs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.inputs))
	for id := range m.inputs {
		ids = append(ids, id)
	}
	return ids
}

// OutputHealth says whether the output delivers, and why not: the outcome
// of the last request to Elasticsearch (a ping when no request was made for
// period), and documents rejected for good since the output was set.
func (m *Managed) OutputHealth(ctx context.Context, period time.Duration) (ok bool, reason string) {
	if m.health.stale(period) {
		m.health.ping(ctx)
	}
	if err := m.health.err(); err != nil {
		return false, err.Error()
	}
	m.mu.Lock()
	base, path := m.deadBase, m.b.deadLetterPath
	m.mu.Unlock()
	if n := m.b.counters.EventsDeadLettered.Load() - base; n > 0 {
		return false, fmt.Sprintf("%d events rejected by Elasticsearch were written to the dead-letter file %s", n, path)
	}
	return true, ""
}

// Close stops every input and drains the pipeline; acknowledged events are
// checkpointed.
func (m *Managed) Close() error {
	for _, id := range m.Inputs() {
		m.mu.Lock()
		mi := m.inputs[id]
		delete(m.inputs, id)
		m.mu.Unlock()
		mi.cancel()
		<-mi.done
	}
	return m.b.Close()
}

// esHealth watches the Elasticsearch output's requests.
type esHealth struct {
	mu   sync.Mutex
	tr   esout.Transport // the current output's, wrapped
	last error
	at   time.Time
}

func (h *esHealth) wrap(tr esout.Transport) esout.Transport {
	w := esout.TransportFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := tr.Perform(r)
		h.observe(resp, err)
		return resp, err
	})
	h.mu.Lock()
	h.tr = w
	h.mu.Unlock()
	return w
}

func (h *esHealth) observe(resp *http.Response, err error) {
	var e error
	switch {
	case err != nil:
		e = fmt.Errorf("Elasticsearch unreachable: %w", err)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		e = fmt.Errorf("Elasticsearch rejects procbeat's credentials: HTTP %d", resp.StatusCode)
	case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout:
		e = fmt.Errorf("Elasticsearch unreachable: HTTP %d from a proxy in front of it", resp.StatusCode)
	case resp.StatusCode == http.StatusServiceUnavailable:
		e = fmt.Errorf("Elasticsearch unavailable: HTTP %d", resp.StatusCode)
	case resp.StatusCode >= 400 && resp.StatusCode != http.StatusRequestEntityTooLarge:
		// 413 only makes the output split the batch.
		e = fmt.Errorf("Elasticsearch is rejecting requests: HTTP %d", resp.StatusCode)
	}
	h.mu.Lock()
	h.last, h.at = e, time.Now()
	h.mu.Unlock()
}

func (h *esHealth) reset() {
	h.mu.Lock()
	h.last, h.at = nil, time.Time{}
	h.mu.Unlock()
}

func (h *esHealth) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

func (h *esHealth) stale(period time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return time.Since(h.at) >= period
}

// ping asks the cluster for its banner, so that an idle output's health is
// known too.
func (h *esHealth) ping(ctx context.Context) {
	h.mu.Lock()
	tr := h.tr
	h.mu.Unlock()
	if tr == nil {
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return
	}
	if resp, err := tr.Perform(req); err == nil {
		resp.Body.Close()
	}
}
