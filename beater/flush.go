package beater

import (
	"context"
	"runtime"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/pipeline"
)

// At the end of a replay the merger lets go of everything it holds (up
// to procbeat.merge.max_held records, 4096 by default) while nothing else
// runs: encoding them one after the other left the other cores idle for
// about a tenth of a replay of mixed.evtx on two. With more than one core
// and many records held, FlushHeld encodes them on helper goroutines and
// publishes them in the order the merger lets them go.
const (
	// parallelFlushMin is how many held records make a flush parallel:
	// fewer are not worth the goroutines and the copies.
	parallelFlushMin = 256
	// flushAhead is how many documents are copied and encoding ahead of
	// the one being published.
	flushAhead = 64
	// maxFlushers bounds the helper goroutines.
	maxFlushers = 4
)

// flushSlot is one document on its way: copied from the merger (whose
// document is only valid during Emit), encoded by a helper, published by
// the flushing goroutine.
type flushSlot struct {
	doc     document.Document
	kind    mapping.Kind
	acks    [2]pipeline.Ticket
	n       int
	ev      pipeline.Event
	encoded chan struct{} // a token once ev is ready
}

// parallelFlush is a flush in progress (releaseParallel).
type parallelFlush struct {
	r          *Runner
	ctx        context.Context
	slots      []flushSlot
	todo       []chan int // by helper: the slots to encode
	done       chan struct{}
	head, tail int // slots published up to head, filled up to tail
	c          *fileCounts
}

// flushers is how many helpers a flush of held records gets, 0 when it
// runs serially.
func flushers(held int) int {
	if held < parallelFlushMin || runtime.GOMAXPROCS(0) == 1 {
		return 0
	}
	return min(runtime.GOMAXPROCS(0), maxFlushers)
}

// newParallelFlush starts n helpers, each encoding into an arena of its
// own.
func (r *Runner) newParallelFlush(ctx context.Context, n int, c *fileCounts) *parallelFlush {
	f := &parallelFlush{r: r, ctx: ctx, slots: make([]flushSlot, flushAhead), todo: make([]chan int, n),
		done: make(chan struct{}, n), c: c}
	for i := range f.slots {
		f.slots[i].encoded = make(chan struct{}, 1)
	}
	for h := range f.todo {
		f.todo[h] = make(chan int, flushAhead)
		go f.helper(f.todo[h])
	}
	return f
}

func (f *parallelFlush) helper(todo <-chan int) {
	a := f.r.pipe.Arena()
	defer func() {
		a.Close()
		f.done <- struct{}{}
	}()
	for i := range todo {
		s := &f.slots[i]
		s.ev = f.r.event(a, s.kind, &s.doc, pipeline.Position{Source: s.acks[0].Source})
		s.encoded <- struct{}{}
	}
}

// emit is the merger's Emit: the document is observed (here, in the
// merger's order), copied and handed to a helper; the oldest is published
// first when flushAhead are on their way.
func (f *parallelFlush) emit(kind mapping.Kind, d *document.Document, acks []pipeline.Ticket) error {
	if f.tail-f.head == flushAhead {
		if err := f.publishOne(); err != nil {
			return err
		}
	}
	if f.r.observe != nil {
		f.r.observe(d)
	}
	i := f.tail % flushAhead
	s := &f.slots[i]
	s.doc, s.kind = *d, kind
	s.n = copy(s.acks[:], acks)
	f.todo[f.tail%len(f.todo)] <- i
	f.tail++
	return nil
}

// publishOne publishes the oldest document on its way, once encoded.
func (f *parallelFlush) publishOne() error {
	s := &f.slots[f.head%flushAhead]
	<-s.encoded
	f.head++
	ev := s.ev
	s.ev, s.doc = pipeline.Event{}, document.Document{}
	if err := f.r.pipe.PublishReserved(f.ctx, ev, s.acks[:s.n]...); err != nil {
		return err
	}
	f.c.kinds[s.kind]++
	return nil
}

// finish publishes what is on its way (unless err: a publish failed, and
// the documents after it are dropped unacknowledged, read again after a
// restart) and ends the helpers.
func (f *parallelFlush) finish(err error) error {
	for f.head < f.tail {
		if err != nil {
			<-f.slots[f.head%flushAhead].encoded
			f.head++
			continue
		}
		err = f.publishOne()
	}
	for _, t := range f.todo {
		close(t)
	}
	for range f.todo {
		<-f.done
	}
	return err
}
