package pipeline

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/procbeat/procbeat/monitoring"
)

// ErrClosed is returned by Publish once the pipeline is closing or aborted.
var ErrClosed = errors.New("pipeline closed")

// Defaults for Options and Limits.
const (
	DefaultMaxBytesInFlight   = 32 << 20
	DefaultCheckpointInterval = time.Second
	DefaultDrainTimeout       = 30 * time.Second
	DefaultMaxEvents          = 1600
	DefaultMaxBatchBytes      = 16 << 20
	DefaultFlushInterval      = time.Second
	DefaultWorkers            = 1
)

// WriterBatchBytes bounds the batches of outputs that write lines (console,
// file). Such a writer gains nothing from large batches: it writes runs of
// lines as they lie in memory (WriteLines). But every byte of a batch, and
// of the one filling behind it, is held until written: at about 2.5 KiB
// per document a full batch of 2048 held 5 MiB twice over. 512 KiB brought
// a replay's peak RSS from about 68 to 61 MiB at no cost in CPU
// (tools/evtxbench/README.md).
const WriterBatchBytes = 512 << 10

// eventOverhead approximates per-event bytes beyond Body, Index and ID (the
// bulk action line's fixed part, bookkeeping).
const eventOverhead = 64

// Options configure a Pipeline. Zero values take the defaults.
type Options struct {
	MaxBytesInFlight int64 // byte budget shared by all producers (backpressure)
	// CheckpointInterval is how often acknowledged positions are written.
	CheckpointInterval time.Duration
	// CheckpointEveryBatch writes the registry after every acknowledged
	// batch instead (tests, or when replays must be minimal).
	CheckpointEveryBatch bool
	DrainTimeout         time.Duration // how long Close waits for in-flight events
	Counters             *monitoring.Counters
	Logger               monitoring.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxBytesInFlight <= 0 {
		o.MaxBytesInFlight = DefaultMaxBytesInFlight
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = DefaultCheckpointInterval
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.Counters == nil {
		o.Counters = &monitoring.Counters{}
	}
	if o.Logger == nil {
		o.Logger = monitoring.NopLogger{}
	}
	return o
}

func (l Limits) withDefaults() Limits {
	if l.MaxEvents <= 0 {
		l.MaxEvents = DefaultMaxEvents
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBatchBytes
	}
	if l.FlushInterval <= 0 {
		l.FlushInterval = DefaultFlushInterval
	}
	if l.Workers <= 0 {
		l.Workers = DefaultWorkers
	}
	return l
}

// Linker is implemented by checkpoint stores that can tie two records of
// different sources that went into one document (a merged Sysmon and
// Security event): neither source's checkpoint passes its record before
// the other source's could pass its own, so that a restart re-reads
// both or neither, and never makes a document of one alone.
// *registry.Registry implements it.
type Linker interface {
	Link(a, b Ticket)
}

type batch struct {
	events  []Event
	tickets []Ticket
	bytes   int64
	born    time.Time // when its first event came, for FlushInterval
}

// Pipeline batches published events, hands batches to the output's workers
// and acknowledges delivered events to the checkpoint store.
type Pipeline struct {
	out  Output
	cp   Checkpoints
	opts Options
	lim  Limits
	c    *monitoring.Counters
	log  monitoring.Logger

	ctx    context.Context // ends on abort: parent cancelled or drain timeout
	cancel context.CancelFunc

	budget  *budget
	chunks  *chunkPool
	batches chan *batch
	free    chan *batch

	// Producers append their events to cur themselves, under bmu: a
	// handoff per event to the batcher (a channel send, a select, often
	// a goroutine switch) cost more than the rest of the pipeline. A full
	// cur moves to ready, which the batcher hands to the workers; while
	// ready is taken and cur is full, producers wait (freed), before
	// adding their event, as they waited on a full channel: so a producer
	// that gives up (its ctx) has put nothing in a batch. kick wakes the
	// batcher when a batch starts (its age counts from then) or is full;
	// closing asks it to hand over what is left and end.
	bmu     sync.Mutex
	cur     *batch
	ready   *batch
	freed   chan struct{} // closed when ready is taken; nil: nobody waits
	kick    chan struct{}
	closing chan struct{}

	// publishers counts the publish calls in progress, plus closing once
	// Close began: entering and leaving are one atomic operation each,
	// where a mutex and a WaitGroup cost two locks per event. idle is
	// closed when the last publisher has left after Close began.
	publishers atomic.Int64
	idle       chan struct{}
	idleOnce   sync.Once
	running    sync.WaitGroup // batcher and workers
	ticker     sync.WaitGroup // checkpoint writer

	pending atomic.Int64 // published, not yet acknowledged
}

// New starts a pipeline delivering to out. Cancelling ctx aborts it at once
// (as a crash would, except that nothing unacknowledged is checkpointed);
// Close drains it gracefully. The pipeline owns out and closes it.
func New(ctx context.Context, out Output, cp Checkpoints, opts Options) *Pipeline {
	opts = opts.withDefaults()
	lim := out.Limits().withDefaults()
	pctx, cancel := context.WithCancel(ctx)
	p := &Pipeline{
		out:     out,
		cp:      cp,
		opts:    opts,
		lim:     lim,
		c:       opts.Counters,
		log:     opts.Logger,
		ctx:     pctx,
		cancel:  cancel,
		budget:  newBudget(opts.MaxBytesInFlight),
		chunks:  newChunkPool(opts.MaxBytesInFlight),
		batches: make(chan *batch),
		kick:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		free:    make(chan *batch, lim.Workers+2),
		idle:    make(chan struct{}),
	}
	p.running.Add(1 + lim.Workers)
	go p.batchLoop()
	for range lim.Workers {
		go p.worker()
	}
	if !opts.CheckpointEveryBatch {
		p.ticker.Add(1)
		go p.checkpointLoop()
	}
	return p
}

// Pending is the number of events published and not yet acknowledged.
func (p *Pipeline) Pending() int64 { return p.pending.Load() }

// Client is a producer's handle for one source. Its Publish calls are
// serialized, so that the checkpoint store sees the source's events in
// publish order; use one Client per source, from one goroutine or many.
type Client struct {
	p      *Pipeline
	source string
	mu     sync.Mutex
}

// Client returns a publisher for source.
func (p *Pipeline) Client(source string) *Client {
	return &Client{p: p, source: source}
}

// Publish queues ev, blocking while the bytes in flight are at the budget.
// ev.Pos.Source is set to the client's source. Offsets must increase from
// one call to the next. Once Publish has failed for a source, that
// source's checkpoint cannot advance past the failed event: stop the
// source and resume it from the registry.
func (c *Client) Publish(ctx context.Context, ev Event) error {
	c.mu.Lock()
	ev.Pos.Source = c.source
	handed, err := c.p.publish(ctx, &ev, nil)
	c.mu.Unlock()
	if handed {
		yield()
	}
	return err
}

// Reserve registers the record at pos in the source's publish order
// without publishing it: its document is held back (waiting for a twin
// from another source) and goes out later through PublishReserved. Until
// then the source's checkpoint cannot pass pos, so a stop drops the held
// record without losing it: a restart reads it again.
func (c *Client) Reserve(pos Position) Ticket {
	c.mu.Lock()
	defer c.mu.Unlock()
	pos.Source = c.source
	return c.p.cp.Begin(pos)
}

// PublishReserved queues ev as the document of the records whose tickets
// Reserve returned (one, or two from different sources for a merged
// document); its acknowledgement completes them all. ev.Pos is only
// reported in errors.
func (p *Pipeline) PublishReserved(ctx context.Context, ev Event, tickets ...Ticket) error {
	if len(tickets) == 0 || len(tickets) > 2 {
		return fmt.Errorf("publish reserved %s: %d tickets, want 1 or 2", ev.ID, len(tickets))
	}
	if len(tickets) == 2 {
		if l, ok := p.cp.(Linker); ok {
			l.Link(tickets[0], tickets[1])
		}
	}
	handed, err := p.publish(ctx, &ev, tickets)
	if handed {
		yield()
	}
	return err
}

// yield lets the batcher and the output take a batch a producer just
// filled, rather than when the producer blocks on the next full one: on
// one core, the bodies of one batch in flight instead of two, so that the
// arena's chunks come back while still in the cache
// (BenchmarkDocumentPath map+encode+pipeline, batches of 2048 documents:
// about 0.2 µs a document less). Producers call it holding no lock.
func yield() { runtime.Gosched() }

// publish queues ev; reserved are its tickets when Reserve took them,
// else publish takes one. handed says ev filled a batch, now ready for
// the batcher.
func (p *Pipeline) publish(ctx context.Context, ev *Event, reserved []Ticket) (handed bool, err error) {
	if p.publishers.Add(1) >= closing {
		p.leave()
		ev.release()
		return false, ErrClosed
	}
	defer p.leave()

	size := int64(len(ev.Body)+len(ev.Index)+len(ev.ID)) + eventOverhead
	if err := p.budget.acquire(ctx, p.ctx.Done(), size); err != nil {
		ev.release()
		return false, fmt.Errorf("publish %s offset %d: %w", ev.Pos.Source, ev.Pos.Offset, err)
	}
	if err := p.admit(ctx); err != nil {
		p.budget.release(size)
		ev.release()
		return false, fmt.Errorf("publish %s offset %d: %w", ev.Pos.Source, ev.Pos.Offset, err)
	}
	// bmu is held: the event goes into cur.
	b := p.cur
	if b == nil {
		b = p.getBatch()
		b.born = time.Now()
		p.cur = b
		p.wake() // the batch's age counts from now
	}
	b.events = append(b.events, *ev)
	if reserved == nil {
		b.tickets = append(b.tickets, p.cp.Begin(ev.Pos))
	} else {
		b.tickets = append(b.tickets, reserved...)
	}
	b.bytes += size
	// Counted before bmu is released: once the batch leaves, the event
	// may be delivered and acknowledged before this goroutine runs again,
	// and counters must never show it acknowledged and not published.
	p.pending.Add(1)
	p.c.EventsPublished.Add(1)
	p.c.QueueDepth.Add(1)
	p.c.BytesInFlight.Add(size)
	if p.full(b) {
		if p.ready == nil {
			p.ready, p.cur = b, nil
			handed = true
		}
		p.wake()
	}
	p.bmu.Unlock()
	return handed, nil
}

// closing is added to Pipeline.publishers when Close begins: past any
// number of publish calls in progress.
const closing = 1 << 62

// leave ends a publish call (or an attempt refused after Close).
func (p *Pipeline) leave() {
	if p.publishers.Add(-1) == closing {
		p.setIdle()
	}
}

// setIdle says that no publish call is in progress after Close began.
func (p *Pipeline) setIdle() { p.idleOnce.Do(func() { close(p.idle) }) }

// admit returns with bmu held once cur has room for an event, or an
// error (ctx ended, the pipeline aborted) without it.
func (p *Pipeline) admit(ctx context.Context) error {
	for {
		p.bmu.Lock()
		if p.cur == nil || !p.full(p.cur) {
			return nil
		}
		if p.freed == nil {
			p.freed = make(chan struct{})
		}
		freed := p.freed
		p.bmu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.ctx.Done():
			return ErrClosed
		}
	}
}

func (p *Pipeline) full(b *batch) bool {
	return len(b.events) >= p.lim.MaxEvents || b.bytes >= int64(p.lim.MaxBytes)
}

// wake kicks the batcher, unless it has a kick pending already.
func (p *Pipeline) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *Pipeline) getBatch() *batch {
	select {
	case b := <-p.free:
		return b
	default:
		return &batch{
			events:  make([]Event, 0, p.lim.MaxEvents),
			tickets: make([]Ticket, 0, p.lim.MaxEvents),
		}
	}
}

func (p *Pipeline) putBatch(b *batch) {
	clear(b.events) // drop references to bodies
	b.events, b.tickets, b.bytes = b.events[:0], b.tickets[:0], 0
	select {
	case p.free <- b:
	default:
	}
}

// batchLoop hands the batches the producers filled (ready), or that
// reached FlushInterval of age (cur), to the workers, in order.
func (p *Pipeline) batchLoop() {
	defer p.running.Done()
	defer close(p.batches)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var timerC <-chan time.Time
	closing := p.closing
	for {
		select {
		case <-p.kick:
		case <-timerC:
			timerC = nil
		case <-closing:
			closing = nil
		case <-p.ctx.Done():
			return
		}
		for {
			b, wait := p.take(closing == nil)
			if b == nil {
				if closing == nil {
					return // closed, and everything handed over
				}
				if wait > 0 && timerC == nil {
					timer.Reset(wait)
					timerC = timer.C
				}
				break
			}
			select {
			case p.batches <- b:
			case <-p.ctx.Done():
				return
			}
		}
	}
}

// take returns the next batch to hand to the workers: ready, else cur
// when it is full, FlushInterval old or all is closing; nil and how long
// until cur is old enough when there is none.
func (p *Pipeline) take(closing bool) (*batch, time.Duration) {
	p.bmu.Lock()
	defer p.bmu.Unlock()
	b := p.ready
	p.ready = nil
	if p.freed != nil {
		close(p.freed)
		p.freed = nil
	}
	cur := p.cur
	if cur == nil {
		return b, 0
	}
	age := time.Since(cur.born)
	switch {
	case b != nil && p.full(cur):
		p.ready, p.cur = cur, nil
	case b == nil && (closing || p.full(cur) || age >= p.lim.FlushInterval):
		b, p.cur = cur, nil
	}
	if b == nil {
		return nil, p.lim.FlushInterval - age
	}
	return b, 0
}

func (p *Pipeline) worker() {
	defer p.running.Done()
	for {
		select {
		case b, ok := <-p.batches:
			if !ok {
				return
			}
			p.deliver(b)
		case <-p.ctx.Done():
			return
		}
	}
}

func (p *Pipeline) deliver(b *batch) {
	n := int64(len(b.events))
	err := p.out.Publish(p.ctx, b.events)
	// Delivered or not, the output keeps no body now.
	releaseBodies(b.events)
	if err != nil {
		// Only an abort ends a batch unacknowledged; its events stay behind
		// the checkpoint and are replayed on restart.
		if p.ctx.Err() == nil {
			p.log.Errorf("output failed a batch of %d events without abort: %v", n, err)
		}
	} else {
		p.cp.Done(b.tickets)
		p.pending.Add(-n)
		p.c.EventsAcked.Add(uint64(n))
		p.c.QueueDepth.Add(-n)
		p.log.Debugf("batch of %d events (%d bytes) delivered and acknowledged", n, b.bytes)
	}
	p.budget.release(b.bytes)
	p.c.BytesInFlight.Add(-b.bytes)
	p.putBatch(b)
	if err == nil && p.opts.CheckpointEveryBatch {
		p.checkpoint()
	}
}

func (p *Pipeline) checkpoint() {
	if err := p.cp.Flush(); err != nil {
		p.log.Errorf("writing checkpoints: %v", err)
	}
}

func (p *Pipeline) checkpointLoop() {
	defer p.ticker.Done()
	t := time.NewTicker(p.opts.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.checkpoint()
		case <-p.ctx.Done():
			return
		}
	}
}

// Close stops accepting events, waits up to DrainTimeout for the events in
// flight to be acknowledged, writes the checkpoints and closes the output.
// It reports events left unacknowledged (they will be replayed).
func (p *Pipeline) Close() error {
	for {
		n := p.publishers.Load()
		if n >= closing {
			return ErrClosed
		}
		if p.publishers.CompareAndSwap(n, n+closing) {
			if n == 0 {
				p.setIdle()
			}
			break
		}
	}

	deadline := time.NewTimer(p.opts.DrainTimeout)
	defer deadline.Stop()
	timedOut := false
	wait := func(done <-chan struct{}) {
		if !timedOut {
			select {
			case <-done:
				return
			case <-deadline.C:
				timedOut = true
				p.cancel()
			}
		}
		<-done
	}
	aborted := p.ctx.Err() != nil
	wait(p.idle)
	close(p.closing)
	running := make(chan struct{})
	go func() { p.running.Wait(); close(running) }()
	wait(running)
	p.cancel()
	p.ticker.Wait()

	var errs []error
	if n := p.pending.Load(); n > 0 {
		switch {
		case timedOut:
			errs = append(errs, fmt.Errorf("pipeline drain: %d events unacknowledged after %s", n, p.opts.DrainTimeout))
		case aborted:
			errs = append(errs, fmt.Errorf("pipeline aborted: %d events unacknowledged", n))
		}
	}
	if err := p.cp.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("final checkpoint: %w", err))
	}
	if err := p.out.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing output: %w", err))
	}
	return errors.Join(errs...)
}
