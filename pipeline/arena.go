package pipeline

import (
	"io"
	"sync"
	"sync/atomic"
)

// Event bodies are encoded into shared chunks instead of a buffer of their
// own: a body per document was three quarters of the bytes a replay
// allocated, and the garbage collection it caused cost more than encoding
// (tools/evtxbench/README.md). A chunk goes back to its pipeline's free
// list once every body in it is done with: delivered or given up by the
// output (Output.Publish keeps no body after it returns) and the producer
// has moved to another chunk. Chunks that are not given back (a pipeline
// aborted with events queued) are left to the garbage collector: the free
// list is a saving, never a debt.
const (
	// chunkSize holds about a hundred typical documents (2 to 4 KiB).
	chunkSize = 256 << 10
	// minRoom is the room a body starts in: a chunk with less left is
	// retired. A body that outgrows its room is moved by append to a
	// buffer of its own (Arena.Set then keeps it as it is).
	minRoom = 16 << 10
)

// chunk is a run of bodies. refs counts the events whose body lies in it,
// plus one while an Arena writes to it.
type chunk struct {
	buf  []byte
	refs atomic.Int32
	pool *chunkPool
}

func (c *chunk) release(n int32) {
	if c.refs.Add(-n) == 0 {
		c.pool.put(c)
	}
}

// chunkPool is a pipeline's free list of chunks, bounded so that a burst
// does not keep its memory for ever.
type chunkPool struct {
	mu   sync.Mutex
	free []*chunk
	max  int
}

func newChunkPool(maxBytesInFlight int64) *chunkPool {
	// The chunks in use hold at most the bytes in flight (plus a partly
	// written one per arena); a free list of that size feeds a pipeline
	// that runs at its budget without allocating.
	return &chunkPool{max: int(maxBytesInFlight/chunkSize) + 4}
}

func (p *chunkPool) get() *chunk {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		c := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.mu.Unlock()
		c.buf = c.buf[:0]
		c.refs.Store(1)
		return c
	}
	p.mu.Unlock()
	c := &chunk{buf: make([]byte, 0, chunkSize), pool: p}
	c.refs.Store(1)
	return c
}

func (p *chunkPool) put(c *chunk) {
	p.mu.Lock()
	if len(p.free) < p.max {
		p.free = append(p.free, c)
	}
	p.mu.Unlock()
}

// Arena hands a producer room for its events' bodies in chunks of the
// pipeline's free list. It is not safe for concurrent use: one per
// producer (or per lock that serializes producers).
//
//	body := doc.AppendJSON(arena.Room())
//	ev := pipeline.Event{Index: ..., ID: ...}
//	arena.Set(&ev, body)
//	client.Publish(ctx, ev)
//
// The body is recycled once the pipeline is done with the event (after the
// output's Publish returned); a producer must not keep it after Publish.
// An event that is not published after Set is harmless: its chunk is then
// collected as garbage instead of reused.
type Arena struct {
	pool *chunkPool
	cur  *chunk
	off  int // where the room Room returned starts in cur.buf
}

// Arena returns a new arena for bodies published to p.
func (p *Pipeline) Arena() *Arena { return &Arena{pool: p.chunks} }

// Room returns an empty slice with room for one body, to append the body
// to and pass to Set. Each call supersedes the previous one.
func (a *Arena) Room() []byte {
	if a.cur == nil || cap(a.cur.buf)-len(a.cur.buf) < minRoom {
		if a.cur != nil {
			a.cur.release(1)
		}
		a.cur = a.pool.get()
	}
	a.off = len(a.cur.buf)
	return a.cur.buf[a.off:a.off:cap(a.cur.buf)]
}

// Set makes body, appended to the last Room, ev's Body. A body that
// outgrew its room was moved by append to a buffer of its own, and is
// kept as it is.
func (a *Arena) Set(ev *Event, body []byte) {
	ev.Body, ev.chunk, ev.newline = body, nil, false
	if a.cur == nil || len(body) == 0 || a.off >= cap(a.cur.buf) || &body[0] != &a.cur.buf[a.off:cap(a.cur.buf)][0] {
		return
	}
	a.cur.buf = a.cur.buf[:a.off+len(body)]
	a.cur.refs.Add(1)
	ev.chunk = a.cur
}

// SetLine is Set for a body followed by a newline (line ends with '\n'):
// ev's Body is the body alone, and the newline stays after it in the
// chunk, so that NDJSON outputs write runs of bodies whole (WriteLines).
func (a *Arena) SetLine(ev *Event, line []byte) {
	if len(line) == 0 || line[len(line)-1] != '\n' {
		a.Set(ev, line)
		return
	}
	a.Set(ev, line)
	ev.Body = ev.Body[:len(line)-1]
	ev.newline = ev.chunk != nil
}

// Close gives back the chunk the arena writes to; the arena may still be
// used (it takes a new chunk).
func (a *Arena) Close() {
	if a.cur != nil {
		a.cur.release(1)
		a.cur = nil
	}
}

// line returns ev's body with the newline that follows it in its chunk
// (SetLine), or nil.
func (e *Event) line() []byte {
	if !e.newline {
		return nil
	}
	return e.Body[:len(e.Body)+1]
}

// WriteLines writes the events' bodies to w as NDJSON, each followed by a
// newline. Bodies placed with SetLine one after the other in a chunk go
// out in one write, without being copied: one write per run of about a
// hundred documents, where a buffered writer would copy each body once
// more.
func WriteLines(w io.Writer, events []Event) error {
	var run []byte
	for i := range events {
		e := &events[i]
		if l := e.line(); l != nil {
			if len(run) > 0 && cap(run) > len(run) && &run[:len(run)+1][len(run)] == &l[0] {
				run = run[:len(run)+len(l)]
				continue
			}
			if err := write(w, run); err != nil {
				return err
			}
			run = l
			continue
		}
		if err := write(w, run); err != nil {
			return err
		}
		run = nil
		if err := write(w, e.Body); err != nil {
			return err
		}
		if err := write(w, newline); err != nil {
			return err
		}
	}
	return write(w, run)
}

var newline = []byte{'\n'}

func write(w io.Writer, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := w.Write(b)
	return err
}

// releaseBodies gives back the chunks of events the pipeline is done with,
// one atomic operation per run of events sharing a chunk.
func releaseBodies(events []Event) {
	var (
		c *chunk
		n int32
	)
	for i := range events {
		e := &events[i]
		if e.chunk != c {
			if c != nil {
				c.release(n)
			}
			c, n = e.chunk, 0
		}
		n++
		e.chunk, e.newline = nil, false
	}
	if c != nil {
		c.release(n)
	}
}

// release gives back the body of an event the pipeline did not take.
func (e *Event) release() {
	if e.chunk != nil {
		e.chunk.release(1)
		e.chunk, e.newline = nil, false
	}
}
