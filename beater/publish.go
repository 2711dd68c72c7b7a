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

// stageBatch is how many documents of a finite source (a file) go to the
// publisher at once: a handoff per document (two channel operations on
// each side, and the publisher woken each time) cost more than the rest
// of the stage. A live channel's document goes at once: it must not wait
// for the next record, which may be long in coming.
const stageBatch = 16

// jobBatch is a handoff to the publisher goroutine: jobs[:n], whose
// documents are the batch's own slots in docs.
type jobBatch struct {
	jobs [stageBatch]pubJob
	n    int
}

// stage is a publisher goroutine's queue: stageDocs documents, in
// batches of stageBatch.
type stage struct {
	docs    []document.Document
	batches []jobBatch
}

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
	// stage holds the queued documents (async only); free has the
	// indexes of its free batches, jobs those handed to the goroutine;
	// cur is the batch the mapping fills, -1 when none is taken. A batch
	// is handed over with per jobs (stageBatch, or 1 for an endless
	// source).
	stage stage
	free  chan int32
	cur   int32
	per   int
	// one is the document the mapping writes to when inline.
	one  document.Document
	jobs chan int32 // nil: publish in the caller's goroutine
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

// newPublisher returns the publisher of a Run or RunTogether; finite says
// its sources end (files), so that documents may wait for a batch to
// fill before the publisher goroutine takes them.
func (r *Runner) newPublisher(ctx context.Context, finite bool) *publisher {
	p := &publisher{r: r, ctx: ctx, arena: r.pipe.Arena(), cur: -1, per: 1}
	p.emit = p.emitMerged
	if finite {
		p.per = stageBatch
	}
	if runtime.GOMAXPROCS(0) > 1 {
		p.stage = r.takeStage()
		n := len(p.stage.batches)
		p.free = make(chan int32, n)
		for i := range n {
			p.free <- int32(i)
		}
		p.jobs = make(chan int32, n)
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
	if p.cur < 0 {
		p.cur = <-p.free
	}
	return &p.stage.docs[int(p.cur)*stageBatch+p.stage.batches[p.cur].n]
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
		p.publish(&j)
		return
	}
	b := &p.stage.batches[p.cur]
	b.jobs[b.n] = j
	if b.n++; b.n >= p.per {
		p.flush()
	}
}

// flush hands the batch being filled to the publisher goroutine. It must
// come before waiting for a reading's documents (inflight).
func (p *publisher) flush() {
	if p.cur >= 0 && p.stage.batches[p.cur].n > 0 {
		p.jobs <- p.cur
		p.cur = -1
	}
}

func (p *publisher) loop() {
	defer close(p.done)
	for i := range p.jobs {
		b := &p.stage.batches[i]
		for k := range b.n {
			p.publish(&b.jobs[k])
		}
		clear(b.jobs[:b.n]) // they point to readings and strings
		b.n = 0
		p.free <- i
	}
}

// publish encodes and publishes one document; after a source's first
// failure the rest of its documents are dropped (the source stops, and
// its checkpoint stays before them).
func (p *publisher) publish(j *pubJob) {
	rs := j.rs
	defer rs.inflight.Done()
	if rs.pubFailed.Load() {
		return
	}
	var err error
	if j.merge {
		p.emitTo = rs
		r := p.r
		r.mergeMu.Lock()
		err = r.merger.Add(merge.Item[pipeline.Ticket]{Kind: j.kind, Doc: j.doc, Logged: j.logged, Image: j.image, Ack: j.t[0]}, p.emit)
		r.mergeMu.Unlock()
	} else {
		ev := p.r.event(p.arena, j.kind, j.doc, j.pos)
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

// close publishes what is queued and ends the goroutine.
func (p *publisher) close() {
	if p.jobs != nil {
		p.flush()
		close(p.jobs)
		<-p.done
		p.r.giveStage(p.stage)
		p.stage = stage{}
	}
	p.arena.Close()
}

// takeStage returns the queue of a publisher: the one a finished one left
// (a replay of many small files runs one publisher per file), or new.
func (r *Runner) takeStage() stage {
	r.mu.Lock()
	s := r.spareStage
	r.spareStage = stage{}
	r.mu.Unlock()
	if s.docs == nil {
		s = stage{docs: make([]document.Document, stageDocs), batches: make([]jobBatch, stageDocs/stageBatch)}
	}
	return s
}

func (r *Runner) giveStage(s stage) {
	r.mu.Lock()
	r.spareStage = s
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
