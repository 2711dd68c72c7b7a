package evtx

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/procbeat/procbeat/winevent"
)

// Options configure a Reader.
type Options struct {
	// Filter, when set, is asked with the provider name and event id before
	// the rest of a record is decoded; records it rejects are skipped. It is
	// called from worker goroutines and must be safe for concurrent use.
	Filter func(provider string, eventID uint16) bool
	// Workers is the number of chunks decoded in parallel; 0 means
	// GOMAXPROCS, 1 decodes in the caller's goroutine.
	Workers int
	// Start resumes reading at a Position a previous Reader returned:
	// chunks before Start.Chunk are not read, nor the records of that chunk
	// before Start.Offset. A Start whose Check does not match the file is
	// dropped and the file is read from its start (see Position and
	// StartReset).
	Start Position
	// OnError, when set, receives every chunk and record error, in file
	// order, from the goroutine calling Next.
	OnError func(error)
	// MaxErrors bounds the errors kept for Errors (default 1000); all are
	// still counted in Stats and passed to OnError.
	MaxErrors int
	// Growing says the file may still be written to: a copy in progress
	// in a folder that procbeat run watches. Its last chunk slot, when not
	// whole yet, is not read (a later Reader reads it, once written), and
	// a file holding fewer chunks or records than its header declares is
	// not an error: Truncation says what is missing, Err does not.
	Growing bool
}

// Stats counts what a Reader has seen so far.
type Stats struct {
	Chunks         int // chunk slots examined
	ChunksDecoded  int
	ChunksSkipped  int // before Options.Start, not read
	EmptyChunks    int // zero-filled or missing chunk slots
	BadMagicChunks int
	// SlackChunks counts the slots past the chunks in use that hold no
	// chunk: past the file header's chunk count and the last chunk, file
	// slack (a log's preallocated space, left over bytes), not errors.
	SlackChunks    int
	ChecksumErrors int // chunk header or records checksum mismatches
	Records        int // records returned
	Filtered       int // records rejected by Options.Filter
	Resumed        int // records of Options.Start's chunk before its offset
	RecordErrors   int
}

func (s *Stats) add(o *Stats) {
	s.Chunks += o.Chunks
	s.ChunksDecoded += o.ChunksDecoded
	s.ChunksSkipped += o.ChunksSkipped
	s.EmptyChunks += o.EmptyChunks
	s.BadMagicChunks += o.BadMagicChunks
	s.SlackChunks += o.SlackChunks
	s.ChecksumErrors += o.ChecksumErrors
	s.Records += o.Records
	s.Filtered += o.Filtered
	s.Resumed += o.Resumed
	s.RecordErrors += o.RecordErrors
}

// Reader iterates over the records of one EVTX file in file order. It reads
// either a random-access file (NewReader, Open) or a stream (NewStreamReader:
// an archive member), chunk by chunk, never holding more than a few chunks
// per worker.
type Reader struct {
	src    io.ReaderAt
	size   int64
	name   string
	opts   Options
	header FileHeader
	closer io.Closer
	mem    *fileMap // the file mapped (Open, Dump on Linux), or nil

	// declared is the number of chunks the file header declares, -1 when
	// its checksum fails (then nothing is taken from it); headerLen is
	// how many bytes of the 4 KiB header block the file holds.
	declared  int
	headerLen int
	// slack holds the slots past declared without a chunk since the last
	// chunk: slack if no chunk follows them, else errors (Next).
	slack []int32
	// maxID is the highest record id read; truncation is what the file
	// lacks of what its header declares, once it was read to its end
	// (checkEnd).
	maxID      uint64
	truncation error

	// limit is the number of chunk slots: known at once for a
	// random-access file, when the stream ends for a stream.
	limit atomic.Int64
	// salt is mixed into every Check (see fileSalt); saltDone is false
	// while it is still to be computed, on the first Position call: from
	// scan, which the chunks taken feed, once the file was read to its
	// end, else by fileSalt.
	salt     uint64
	saltDone bool
	scan     saltScan
	reset    string // why Options.Start was dropped, "" if it was not

	// Stream mode: chunks are taken in order under smu.
	stream    *bufio.Reader
	smu       sync.Mutex
	snext     int
	sdone     bool
	streamErr error
	eofc      chan struct{} // closed once limit is known (stream mode)

	cur   *chunkResult
	pos   int // index of the current record in cur
	err   error
	errs  []error
	stats Stats

	// Sequential mode.
	hook func(*decoder) // lets Dump instrument the decoder
	json bool           // decoders render JSON lines (Dump; dumpjson.go)
	dec  *decoder
	buf  []byte
	next int

	// Parallel mode.
	started bool
	done    chan struct{}
	free    chan *chunkResult
	empty   chan *chunkResult // results that never hold records (emptyResult)
	// ring holds the decoded chunks the consumer has not taken yet, chunk
	// i at i % len(ring): each chunk a worker took and the consumer has
	// not holds a result (a slot or an empty one), so there are at most
	// len(ring) of them, consecutive, each with an entry of its own. want
	// is the chunk the consumer waits for (wake says it came): a worker
	// wakes it for that chunk only, not for every chunk it decodes ahead.
	ring   []atomic.Pointer[chunkResult]
	want   atomic.Int64
	wake   chan struct{}
	jobs   atomic.Int64
	wg     sync.WaitGroup
	closed bool
}

// Open opens an EVTX file. The returned Reader must be closed.
func Open(path string, opts Options) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := NewReader(f, fi.Size(), path, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads an EVTX file from r, which holds size bytes; name is used
// in errors. Every chunk slot the file holds is read, whatever the header
// says (dirty files declare fewer chunks than they use). When r is an
// *os.File it may be mapped into memory until Close (see fileMap); the
// caller still closes it, before or after the Reader.
func NewReader(r io.ReaderAt, size int64, name string, opts Options) (*Reader, error) {
	hb := make([]byte, 128)
	if _, err := r.ReadAt(hb, 0); err != nil {
		return nil, &FileError{File: name, Err: fmt.Errorf("reading file header: %w", err)}
	}
	rd, err := newReader(hb, name, opts)
	if err != nil {
		return nil, err
	}
	rd.src, rd.size = r, size
	rd.headerLen = int(min(size, fileHeaderBlock))
	nchunks := 0
	if size > fileHeaderBlock {
		nchunks = int((size - fileHeaderBlock + chunkSize - 1) / chunkSize)
		if opts.Growing {
			// A chunk still being written is read once whole.
			nchunks = int((size - fileHeaderBlock) / chunkSize)
		}
	}
	rd.limit.Store(int64(nchunks))
	if !rd.opts.Start.IsZero() {
		if rd.salt, err = fileSalt(r, nchunks); err != nil {
			return nil, &FileError{File: name, Err: fmt.Errorf("reading chunk headers: %w", err)}
		}
		rd.saltDone = true
		start, why, err := resolveStart(r, size, nchunks, rd.opts.Start, rd.salt)
		if err != nil {
			return nil, &FileError{File: name, Err: fmt.Errorf("checking the saved position: %w", err)}
		}
		rd.setStart(start, why)
	}
	if f, ok := r.(*os.File); ok {
		rd.mapFrom(f)
	}
	return rd, nil
}

// NewStreamReader reads an EVTX file from a sequential stream (an archive
// member): the file header, then one chunk after the other as workers ask
// for them, so memory stays at a few chunks per worker whatever the size.
// Resuming at opts.Start skips the chunks before it by reading them; when
// that chunk's identity does not match Start.Check, it returns an error
// matching ErrPositionChanged and the caller reads the stream again from its
// start. Positions of a stream carry no file salt (the stream cannot be
// scanned ahead), so a stream's positions do not fit a random-access read
// of the same file and conversely.
func NewStreamReader(r io.Reader, name string, opts Options) (*Reader, error) {
	br := bufio.NewReaderSize(r, identLen)
	hb := make([]byte, fileHeaderBlock)
	n, err := io.ReadFull(br, hb)
	if err != nil && n < 128 {
		return nil, &FileError{File: name, Err: fmt.Errorf("reading file header: %w", err)}
	}
	rd, err := newReader(hb, name, opts)
	if err != nil {
		return nil, err
	}
	rd.headerLen = n
	rd.stream = br
	rd.saltDone = true
	rd.limit.Store(math.MaxInt64)
	rd.eofc = make(chan struct{})
	if start := rd.opts.Start; !start.IsZero() {
		if _, err := br.Discard(start.Chunk * chunkSize); err != nil {
			return nil, &FileError{File: name, Err: fmt.Errorf("skipping to chunk %d of the saved position: %w", start.Chunk, err)}
		}
		head, _ := br.Peek(identLen)
		if id := chunkIdent(head); id == 0 || id != start.Check {
			return nil, &FileError{File: name, Err: fmt.Errorf("chunk %d: %w", start.Chunk, ErrPositionChanged)}
		}
		rd.snext = start.Chunk
		rd.setStart(start, "")
	}
	return rd, nil
}

func newReader(hb []byte, name string, opts Options) (*Reader, error) {
	h, err := parseFileHeader(hb)
	if err != nil {
		return nil, &FileError{File: name, Err: err}
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = 1000
	}
	rd := &Reader{name: name, opts: opts, header: h, declared: -1}
	if !h.ChecksumOK {
		rd.report(&FileError{File: name, Err: ErrFileChecksum})
	} else {
		rd.declared = int(h.ChunkCount)
		if h.FirstChunk <= h.LastChunk && h.LastChunk < math.MaxUint16 {
			// Not wrapped: the last chunk is the last in use.
			rd.declared = max(rd.declared, int(h.LastChunk)+1)
		}
	}
	return rd, nil
}

// setStart fixes where reading begins, before any chunk is taken.
func (r *Reader) setStart(start Position, why string) {
	r.opts.Start, r.reset = start, why
	r.next = start.Chunk
	r.jobs.Store(int64(start.Chunk))
	r.stats.ChunksSkipped = start.Chunk
}

// StartReset says why Options.Start was not used (the file changed under
// it) and the file is read from its start; "" when it was used or unset.
func (r *Reader) StartReset() string { return r.reset }

// Header returns the decoded file header.
func (r *Reader) Header() FileHeader { return r.header }

// Chunks returns the number of chunk slots in the file (for a stream, -1
// until the stream has ended).
func (r *Reader) Chunks() int {
	if n := r.limit.Load(); n != math.MaxInt64 {
		return int(n)
	}
	return -1
}

func (r *Reader) report(err error) {
	if r.opts.OnError != nil {
		r.opts.OnError(err)
	}
	if len(r.errs) < r.opts.MaxErrors {
		r.errs = append(r.errs, err)
	}
}

// take claims the next chunk slot and reads it into buf. It returns false
// when there is no slot left. A random-access file hands out indexes
// atomically; a stream hands them out and reads them under one lock, so
// its chunks are read in order.
func (r *Reader) take(buf []byte) (i int, b []byte, off int64, err error, ok bool) {
	if r.stream == nil {
		i = int(r.jobs.Add(1) - 1)
		if int64(i) >= r.limit.Load() {
			return 0, nil, 0, nil, false
		}
		off = int64(fileHeaderBlock) + int64(i)*chunkSize
		n := min(int64(chunkSize), r.size-off)
		if r.mem != nil {
			return i, r.mem.chunk(off, n), off, nil, true
		}
		b = buf[:n]
		if _, err := r.src.ReadAt(b, off); err != nil && err != io.EOF {
			return i, nil, off, err, true
		}
		return i, b, off, nil, true
	}
	r.smu.Lock()
	defer r.smu.Unlock()
	if r.sdone {
		return 0, nil, 0, nil, false
	}
	i = r.snext
	r.snext++
	off = int64(fileHeaderBlock) + int64(i)*chunkSize
	n, err := io.ReadFull(r.stream, buf[:chunkSize])
	switch {
	case err == nil:
		return i, buf[:n], off, nil, true
	case n == 0 && err == io.EOF:
		r.endStream(i, nil)
		return 0, nil, 0, nil, false
	case err == io.ErrUnexpectedEOF:
		// A last, short chunk: decoded for what it holds, reported
		// truncated by the decoder.
		r.endStream(i+1, nil)
		return i, buf[:n], off, nil, true
	default:
		// A broken stream (corrupt compressed data) ends the file:
		// the chunks before it are delivered, then Err reports it.
		r.endStream(i, fmt.Errorf("chunk %d (offset %#x): %w", i, off, err))
		return 0, nil, 0, nil, false
	}
}

// endStream records that the stream holds n chunk slots; smu is held.
func (r *Reader) endStream(n int, err error) {
	r.sdone = true
	r.streamErr = err
	r.limit.Store(int64(n))
	close(r.eofc)
}

// chunkBuf returns a buffer for take to read chunks into; a mapped file
// needs none.
func (r *Reader) chunkBuf() []byte {
	if r.mem != nil {
		return nil
	}
	return make([]byte, chunkSize)
}

// decodeNext takes the next chunk slot and decodes it with dec into res.
func (r *Reader) decodeNext(dec *decoder, buf []byte, res *chunkResult) bool {
	i, b, off, err, ok := r.take(buf)
	if !ok {
		return false
	}
	if err != nil {
		res.reset(i)
		res.stats.Chunks = 1
		res.errs = append(res.errs, &ChunkError{File: r.name, Chunk: i, Offset: off, Err: err})
		return true
	}
	if r.mem != nil {
		// A fault reading the mapping (the file shrank) becomes a
		// panic that decodeChunk reports, rather than a crash.
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer r.mem.release(i, int(r.limit.Load()))
	}
	dec.decodeChunk(i, off, b, res)
	return true
}

// Next advances to the next record. It returns false at the end of the file,
// on cancellation or on an I/O error (see Err). Chunk and record errors do
// not stop the iteration; they go to OnError and Errors.
func (r *Reader) Next(ctx context.Context) bool {
	if r.err != nil || r.closed {
		return false
	}
	for {
		if r.cur != nil && r.pos+1 < r.cur.n {
			r.pos++
			return true
		}
		if err := ctx.Err(); err != nil {
			r.err = err
			return false
		}
		res, ok := r.nextChunk(ctx)
		if !ok {
			if r.err == nil && r.streamErr != nil {
				r.err = &FileError{File: r.name, Err: r.streamErr}
			}
			if r.err == nil && !r.closed {
				r.checkEnd()
			}
			return false
		}
		st := res.stats
		// Past the chunks the header declares, a slot that is no chunk
		// is slack, unless a chunk follows (flushSlack).
		slack := r.declared >= 0 && res.notChunk && res.index >= r.declared
		if slack {
			r.slack = append(r.slack, int32(res.index))
			st.BadMagicChunks = 0
		} else if res.stats.ChunksDecoded > 0 {
			r.flushSlack()
		}
		r.stats.add(&st)
		r.maxID = max(r.maxID, res.maxID)
		if !r.saltDone {
			r.scan.add(res.index, res.head)
		}
		if !slack {
			for _, e := range res.errs {
				r.report(e)
			}
		}
		r.cur, r.pos = res, -1
	}
}

// flushSlack reports the slots held as slack as the errors they are, a
// chunk following them: they lie among the chunks in use.
func (r *Reader) flushSlack() {
	for _, i := range r.slack {
		r.stats.BadMagicChunks++
		off := int64(fileHeaderBlock) + int64(i)*chunkSize
		r.report(&ChunkError{File: r.name, Chunk: int(i), Offset: off, Err: ErrBadChunkMagic})
	}
	r.slack = r.slack[:0]
}

// checkEnd, the file read to its end, counts the slots held as slack and
// compares what the file held with what its header declares: a file cut
// at a chunk boundary is whole chunks, each of them fine, and only the
// header tells that more were written. A header whose checksum fails is
// not trusted; a dirty header (a log not closed) may lag behind the
// chunks, never run ahead of them, so it is trusted too. The next record
// id is not checked for a read resumed past the file's first chunks:
// those hold records too.
func (r *Reader) checkEnd() {
	r.stats.SlackChunks += len(r.slack)
	r.slack = r.slack[:0]
	if r.declared < 0 || r.truncation != nil {
		return
	}
	held := int(r.limit.Load())
	h := r.header
	idShort := h.NextRecordID > 0 && r.stats.ChunksSkipped == 0 && r.maxID+1 < h.NextRecordID
	if r.headerLen >= fileHeaderBlock && held >= r.declared && !idShort {
		if r.opts.Growing && r.size > fileHeaderBlock+int64(held)*chunkSize {
			r.truncation = &FileError{File: r.name, Err: fmt.Errorf("chunk %d is not whole yet (%d of %d bytes): it is read once written",
				held, r.size-fileHeaderBlock-int64(held)*chunkSize, chunkSize)}
		}
		return
	}
	holds := chunks(held)
	switch {
	case r.headerLen < fileHeaderBlock:
		holds = fmt.Sprintf("%d bytes of its %d-byte header block", r.headerLen, fileHeaderBlock)
	case r.src != nil:
		whole := int((r.size - fileHeaderBlock) / chunkSize)
		holds = fmt.Sprintf("%s (%d bytes)", chunks(whole), r.size)
		if whole < held {
			holds = fmt.Sprintf("%s and %d bytes of one more (%d bytes)", chunks(whole), r.size-fileHeaderBlock-int64(whole)*chunkSize, r.size)
		}
	}
	ids := "no record"
	if r.maxID > 0 {
		ids = fmt.Sprintf("records up to id %d", r.maxID)
	}
	r.truncation = &FileError{File: r.name, Err: fmt.Errorf("%w: the file header declares %s and next record id %d, the file holds %s and %s",
		ErrTruncated, chunks(r.declared), h.NextRecordID, holds, ids)}
	if !r.opts.Growing {
		r.err = r.truncation
	}
}

func chunks(n int) string {
	if n == 1 {
		return "1 chunk"
	}
	return fmt.Sprintf("%d chunks", n)
}

// Truncation says what the file lacks of what its header declares, once
// read to its end: nil when it lacks nothing. Err returns it too unless
// Options.Growing; then it may also name the last chunk, not read yet.
func (r *Reader) Truncation() error { return r.truncation }

func (r *Reader) nextChunk(ctx context.Context) (*chunkResult, bool) {
	if r.opts.Workers == 1 {
		if r.dec == nil {
			r.dec = newDecoder(r.name, &r.opts)
			r.dec.json = r.json
			if r.hook != nil {
				r.hook(r.dec)
			}
			r.buf = r.chunkBuf()
			r.cur = &chunkResult{}
		}
		res := r.cur
		if !r.decodeNext(r.dec, r.buf, res) {
			return nil, false
		}
		r.next++
		return res, true
	}
	if !r.started {
		r.start()
	}
	if r.cur != nil {
		if r.cur.empty {
			r.empty <- r.cur
		} else {
			r.free <- r.cur
		}
		r.cur = nil
	}
	e := &r.ring[r.next%len(r.ring)]
	for {
		if res := e.Load(); res != nil {
			e.Store(nil)
			r.next++
			return res, true
		}
		if int64(r.next) >= r.limit.Load() {
			return nil, false
		}
		// Said before looking again: either the worker delivering the
		// chunk sees want, or this goroutine sees the chunk.
		r.want.Store(int64(r.next))
		if e.Load() != nil {
			continue
		}
		select {
		case <-r.wake:
		case <-r.eofc:
			r.eofc = nil // the limit is known now; look again
		case <-ctx.Done():
			r.err = ctx.Err()
			return nil, false
		}
	}
}

// slotsPerWorker is how many decoded chunks per worker the pool holds.
const slotsPerWorker = 4

// emptyPerWorker is how many decoded chunks that kept no record may wait
// for the consumer, per worker, besides the slots: they hold no record,
// so a hundred cost a few KiB. Process events come in runs: on
// tools/evtxbench's mixed file 56% of the chunks keep none, in runs of up
// to 256. With only the slots, on two cores the workers waited for the
// consumer through a run of dense chunks, then the consumer waited for
// them through the run of empty ones after it; now they decode the empty
// run while the consumer maps the dense one.
const emptyPerWorker = 64

// start launches the workers. Each worker takes a free result slot before
// it takes the next chunk index, so the earliest undelivered chunk always
// has a slot and the bounded pool cannot deadlock.
func (r *Reader) start() {
	r.started = true
	w := r.opts.Workers
	// Four decoded chunks per worker can wait for the consumer: with two,
	// a worker often waited for a slot while the consumer waited for the
	// chunk in order, and a replay on two cores took 10% longer (wall
	// time, 150 -> 136 ms on tools/evtxbench's mixed file). Eight gained
	// 4% more but added 3 MB to a 1 GiB replay's peak RSS (57 -> 60 MiB,
	// near its 64 MiB bound): a slot holds one chunk's records.
	slots := slotsPerWorker * w
	r.done = make(chan struct{})
	r.free = make(chan *chunkResult, slots)
	r.empty = make(chan *chunkResult, emptyPerWorker*w)
	r.ring = make([]atomic.Pointer[chunkResult], slots+emptyPerWorker*w)
	r.want.Store(-1)
	r.wake = make(chan struct{}, 1)
	for i := 0; i < slots; i++ {
		r.free <- &chunkResult{}
	}
	for range emptyPerWorker * w {
		r.empty <- &chunkResult{empty: true}
	}
	for i := 0; i < w; i++ {
		r.wg.Add(1)
		go r.worker()
	}
}

func (r *Reader) worker() {
	defer r.wg.Done()
	dec := newDecoder(r.name, &r.opts)
	dec.json = r.json
	buf := r.chunkBuf()
	// res is the slot the next chunk is decoded into: the worker holds
	// one before it takes a chunk index, so the earliest undelivered
	// chunk always has one (start).
	var res *chunkResult
	for {
		if res == nil {
			select {
			case res = <-r.free:
			case <-r.done:
				return
			}
		} else {
			// Holding its slot, the worker would decode ahead until
			// the empty results ran out: after Close too (a peek at a
			// file's first records closes its reader early).
			select {
			case <-r.done:
				return
			default:
			}
		}
		if !r.decodeNext(dec, buf, res) {
			return
		}
		out := r.emptyResult(res)
		if out == nil {
			out, res = res, nil
		}
		r.deliver(out)
	}
}

// deliver hands a decoded chunk to the consumer, and wakes it when it is
// the chunk it waits for.
func (r *Reader) deliver(res *chunkResult) {
	i := res.index // res is the consumer's once stored
	r.ring[i%len(r.ring)].Store(res)
	if r.want.Load() != int64(i) {
		return
	}
	select {
	case r.wake <- struct{}{}:
	default: // a wake is pending already
	}
	// The consumer, woken, waits in this P's queue while the worker
	// decodes its next chunk, up to a time slice: yield, so that the
	// consumer (the replay's ordered, serial stage) runs at once. On two
	// cores a replay of tools/evtxbench's mixed file took 5% less wall
	// time (152 -> 145 ms in process); the execution trace showed the
	// consumer runnable but waiting for most of its time.
	runtime.Gosched()
}

// emptyResult moves what the consumer needs of res, a decoded chunk that
// kept no record, into an empty result, so that the worker keeps its slot
// for the next chunk; nil when res kept records, or all empty results
// wait for the consumer.
func (r *Reader) emptyResult(res *chunkResult) *chunkResult {
	if res.n > 0 || len(res.text) > 0 {
		return nil
	}
	select {
	case e := <-r.empty:
		e.index, e.ident, e.head, e.stats = res.index, res.ident, res.head, res.stats
		e.notChunk, e.maxID = res.notChunk, res.maxID
		e.errs, res.errs = res.errs, e.errs[:0]
		return e
	default:
		return nil
	}
}

// Record returns the current record. It is valid until the next call to
// Next; copy it (and its Data slice) to keep it longer.
func (r *Reader) Record() *winevent.Record {
	if r.cur == nil || r.pos < 0 || r.pos >= r.cur.n {
		return nil
	}
	return &r.cur.records[r.pos]
}

// Position returns the physical position just past the current record:
// a Reader opened with it as Options.Start continues with the next record.
func (r *Reader) Position() Position { return r.PositionOf(r.Mark()) }

// Mark is where a Reader stands, as Position would give it but without the
// file's salt: cheap enough to take at every record. PositionOf turns it
// into the Position. A caller that may need the position after a record
// but seldom does (a source that checkpoints only some records, or a
// peek at a file's first records) takes Marks, and spares the scan of
// every chunk header that the salt costs the first time.
type Mark struct {
	chunk, offset int
	ident         uint64
	set           bool // false: the reader stood before its first record
}

// Mark returns the Mark of the current record.
func (r *Reader) Mark() Mark {
	if r.Record() == nil {
		return Mark{}
	}
	return Mark{chunk: r.cur.index, offset: int(r.cur.ends[r.pos]), ident: r.cur.ident, set: true}
}

// PositionOf returns the Position of a Mark this reader returned.
func (r *Reader) PositionOf(m Mark) Position {
	if !m.set {
		return r.opts.Start
	}
	if !r.saltDone {
		r.saltDone = true
		r.salt = r.computeSalt()
	}
	return Position{Chunk: m.chunk, Offset: m.offset, Check: mixCheck(m.ident, r.salt)}
}

// computeSalt returns the file's salt, computed on first use: a replay that
// never checkpoints does not pay for it. A file read from its first chunk
// to its last has it from the chunks read (scan): a replay that asks only
// for its end position reads no header twice.
func (r *Reader) computeSalt() uint64 {
	n := int(r.limit.Load())
	if salt, ok := r.scan.salt(n); ok {
		return salt
	}
	salt, err := fileSalt(r.src, n)
	if err != nil {
		// Without the salt a Check could validate a position in a
		// wrapped log that was written to since; make every Check of
		// this reader fail instead.
		r.report(&FileError{File: r.name, Err: fmt.Errorf("reading chunk headers for positions: %w", err)})
		return 1
	}
	return salt
}

// Err returns the error that stopped the iteration: I/O, cancellation, or
// the file ending before the chunks and records its header declares (a
// *FileError matching ErrTruncated; see Truncation).
func (r *Reader) Err() error { return r.err }

// Errors returns the chunk and record errors seen so far (bounded by
// Options.MaxErrors).
func (r *Reader) Errors() []error { return r.errs }

// Stats returns counts for the chunks delivered so far.
func (r *Reader) Stats() Stats { return r.stats }

// Close stops the workers and closes the file if Open opened it.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.started {
		close(r.done)
		r.wg.Wait()
	}
	if r.mem != nil {
		r.mem.close()
		r.mem = nil
	}
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}
