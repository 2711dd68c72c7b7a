package beater

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/merge"
	"github.com/procbeat/procbeat/pipeline"
)

// stageDocs is how many mapped documents wait for the publisher at most:
// enough for the mapping and the publisher to run on two cores without
// waiting for each other at every document, little memory (2.3 KiB each).
const stageDocs = 256

// publisher takes the mapped documents of one Run (or RunTogether) in the
// order they were mapped, through the merger when there is one, encodes
// and publishes them. With more than one core it does so in a goroutine
// of its own while the mapping (serial: the tracker is ordered state)
// goes on with the next records and the EVTX reader decodes on the other
// cores. With one core it works in the caller's goroutine, as a handoff
// would only add switches.
//
// A document's records were registered with the checkpoint store before
// it was queued (Reserve) or are at publish (Client.Publish), both in
// mapping order, so checkpoints advance as they did without the stage.
type publisher struct {
	r     *Runner
	ctx   context.Context
	arena *pipeline.Arena
	// docs are the queued documents (async only); free their indexes;
	// next is the one the mapping writes to, -1 when none is taken.
	docs []document.Document
	free chan int32
	next int32
	// one is the document the mapping writes to when inline.
	one  document.Document
	jobs chan pubJob // nil: publish in the caller's goroutine
	done chan struct{}
	// emit is emitMerged; emitTo the reading whose record the merger is
	// taking (the reading, not the job: a pointer to the job kept here
	// would move every job to the heap).
	emit   merge.Emit[pipeline.Ticket]
	emitTo *reading
}

// pubJob is one document to encode and publish.
type pubJob struct {
	rs     *reading
	doc    *document.Document
	slot   int32 // in docs; -1 when doc is the caller's (inline)
	kind   mapping.Kind
	record uint64            // the record being read when it was queued, for messages
	pos    pipeline.Position // published by rs.client when n == 0
	t      [2]pipeline.Ticket
	n      int // tickets Reserve took: published with PublishReserved
	// merge: the document goes to the merger, with its record's time
	// and image (merge.Item), and the merger says what to publish.
	merge  bool
	logged time.Time
	image  string
}

func (r *Runner) newPublisher(ctx context.Context) *publisher {
	p := &publisher{r: r, ctx: ctx, arena: r.pipe.Arena(), next: -1}
	p.emit = p.emitMerged
	if runtime.GOMAXPROCS(0) > 1 {
		p.docs = r.takeDocs()
		p.free = make(chan int32, stageDocs)
		for i := range stageDocs {
			p.free <- int32(i)
		}
		p.jobs = make(chan pubJob, stageDocs)
		p.done = make(chan struct{})
		go p.loop()
	}
	return p
}

// doc returns the document to map the next record into: a queue slot of
// its own, so that it is queued without a copy and the mapping can
// reuse nothing the encoder still reads.
func (p *publisher) doc() *document.Document {
	if p.jobs == nil {
		return &p.one
	}
	if p.next < 0 {
		p.next = <-p.free
	}
	return &p.docs[p.next]
}

// queue publishes the document doc returned, now or in turn (or hands it
// to the merger). Observe sees a document published as mapped here, in
// mapping order, and one of the merger's as the merger lets it go.
func (p *publisher) queue(j pubJob) {
	d := p.doc()
	if p.r.observe != nil && !j.merge {
		p.r.observe(d)
	}
	j.rs.inflight.Add(1)
	j.doc = d
	if p.jobs == nil {
		j.slot = -1
		p.publish(&j)
		return
	}
	j.slot, p.next = p.next, -1
	p.jobs <- j
}

func (p *publisher) loop() {
	defer close(p.done)
	for j := range p.jobs {
		p.publish(&j)
	}
}

// publish encodes and publishes one document; after a source's first
// failure the rest of its documents are dropped (the source stops, and
// its checkpoint stays before them).
func (p *publisher) publish(j *pubJob) {
	rs := j.rs
	defer rs.inflight.Done()
	if rs.pubFailed.Load() {
		p.release(j)
		return
	}
	var err error
	if j.merge {
		p.emitTo = rs
		r := p.r
		r.mergeMu.Lock()
		err = r.merger.Add(merge.Item[pipeline.Ticket]{Kind: j.kind, Doc: j.doc, Logged: j.logged, Image: j.image, Ack: j.t[0]}, p.emit)
		r.mergeMu.Unlock()
		p.release(j)
	} else {
		ev := p.r.event(p.arena, j.kind, j.doc, j.pos)
		p.release(j)
		err = p.send(rs, j.kind, ev, j.t[:j.n])
	}
	if err != nil {
		rs.pubErr, rs.pubRecord = err, j.record
		rs.pubFailed.Store(true)
	}
}

// emitMerged is the merger's Emit: it observes, encodes and publishes what
// the merger lets go while it takes emitTo's document, under mergeMu.
func (p *publisher) emitMerged(kind mapping.Kind, d *document.Document, acks []pipeline.Ticket) error {
	return p.send(p.emitTo, kind, p.r.released(p.arena, kind, d, acks), acks)
}

// send publishes ev for rs, with the tickets Reserve took if any, and
// counts it.
func (p *publisher) send(rs *reading, kind mapping.Kind, ev pipeline.Event, tickets []pipeline.Ticket) error {
	var err error
	if len(tickets) == 0 {
		err = rs.client.Publish(p.ctx, ev)
	} else {
		err = p.r.pipe.PublishReserved(p.ctx, ev, tickets...)
	}
	if err != nil {
		return err
	}
	// Counted once published: a document refused at SIGINT is not one.
	c := &rs.counts
	c.kinds[kind]++
	if c.kinds[kind]%1024 == 0 {
		p.r.merge(c)
	}
	return nil
}

func (p *publisher) release(j *pubJob) {
	if j.slot >= 0 {
		p.free <- j.slot
	}
}

// close publishes what is queued and ends the goroutine.
func (p *publisher) close() {
	if p.jobs != nil {
		close(p.jobs)
		<-p.done
		p.r.giveDocs(p.docs)
		p.docs = nil
	}
	p.arena.Close()
}

// takeDocs returns the queue slots of a publisher: those a finished one
// left (a replay of many small files runs one publisher per file), or new.
func (r *Runner) takeDocs() []document.Document {
	r.mu.Lock()
	docs := r.spareDocs
	r.spareDocs = nil
	r.mu.Unlock()
	if docs == nil {
		docs = make([]document.Document, stageDocs)
	}
	return docs
}

func (r *Runner) giveDocs(docs []document.Document) {
	r.mu.Lock()
	r.spareDocs = docs
	r.mu.Unlock()
}

// pubState is a reading's side of the publisher: what the publisher
// counted and how it failed, read once inflight is done.
type pubState struct {
	inflight  sync.WaitGroup
	counts    fileCounts // documents published
	pubFailed atomic.Bool
	pubErr    error
	pubRecord uint64
}
