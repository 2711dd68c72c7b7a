package evtx

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
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
	// After resumes reading: only records with an id greater than After are
	// returned, and chunks whose (checksummed) header says their last record
	// id is <= After are skipped without decoding.
	After uint64
	// OnError, when set, receives every chunk and record error, in file
	// order, from the goroutine calling Next.
	OnError func(error)
	// MaxErrors bounds the errors kept for Errors (default 1000); all are
	// still counted in Stats and passed to OnError.
	MaxErrors int
}

// Stats counts what a Reader has seen so far.
type Stats struct {
	Chunks         int // chunk slots examined
	ChunksDecoded  int
	ChunksSkipped  int // skipped whole because of Options.After
	EmptyChunks    int // zero-filled or missing chunk slots
	BadMagicChunks int
	ChecksumErrors int // chunk header or records checksum mismatches
	Records        int // records returned
	Filtered       int // records rejected by Options.Filter
	Resumed        int // records at or before Options.After
	RecordErrors   int
}

func (s *Stats) add(o *Stats) {
	s.Chunks += o.Chunks
	s.ChunksDecoded += o.ChunksDecoded
	s.ChunksSkipped += o.ChunksSkipped
	s.EmptyChunks += o.EmptyChunks
	s.BadMagicChunks += o.BadMagicChunks
	s.ChecksumErrors += o.ChecksumErrors
	s.Records += o.Records
	s.Filtered += o.Filtered
	s.Resumed += o.Resumed
	s.RecordErrors += o.RecordErrors
}

// Position identifies the current record for checkpointing.
type Position struct {
	Chunk    int
	RecordID uint64
}

// Reader iterates over the records of one EVTX file in file order.
type Reader struct {
	src    io.ReaderAt
	size   int64
	name   string
	opts   Options
	header FileHeader
	closer io.Closer

	nchunks int
	cur     *chunkResult
	pos     int // index of the current record in cur
	err     error
	errs    []error
	stats   Stats

	// Sequential mode.
	hook func(*decoder) // lets Dump instrument the decoder
	dec  *decoder
	buf  []byte
	next int

	// Parallel mode.
	started bool
	done    chan struct{}
	results chan *chunkResult
	free    chan *chunkResult
	pending map[int]*chunkResult
	jobs    atomic.Int64
	wg      sync.WaitGroup
	closed  bool
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
// says (dirty files declare fewer chunks than they use).
func NewReader(r io.ReaderAt, size int64, name string, opts Options) (*Reader, error) {
	hb := make([]byte, 128)
	if _, err := r.ReadAt(hb, 0); err != nil {
		return nil, &FileError{File: name, Err: fmt.Errorf("reading file header: %w", err)}
	}
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
	rd := &Reader{src: r, size: size, name: name, opts: opts, header: h}
	if size > fileHeaderBlock {
		rd.nchunks = int((size - fileHeaderBlock + chunkSize - 1) / chunkSize)
	}
	if !h.ChecksumOK {
		rd.report(&FileError{File: name, Err: ErrFileChecksum})
	}
	return rd, nil
}

// Header returns the decoded file header.
func (r *Reader) Header() FileHeader { return r.header }

// Chunks returns the number of chunk slots in the file.
func (r *Reader) Chunks() int { return r.nchunks }

func (r *Reader) report(err error) {
	if r.opts.OnError != nil {
		r.opts.OnError(err)
	}
	if len(r.errs) < r.opts.MaxErrors {
		r.errs = append(r.errs, err)
	}
}

// readChunk reads chunk slot i into buf, returning the bytes present.
func (r *Reader) readChunk(i int, buf []byte) ([]byte, int64, error) {
	off := int64(fileHeaderBlock) + int64(i)*chunkSize
	n := int64(chunkSize)
	if off+n > r.size {
		n = r.size - off
	}
	b := buf[:n]
	if _, err := r.src.ReadAt(b, off); err != nil && err != io.EOF {
		return nil, off, err
	}
	return b, off, nil
}

// decodeInto reads and decodes chunk i with dec into res.
func (r *Reader) decodeInto(dec *decoder, buf []byte, i int, res *chunkResult) {
	b, off, err := r.readChunk(i, buf)
	if err != nil {
		res.reset(i)
		res.stats.Chunks = 1
		res.errs = append(res.errs, &ChunkError{File: r.name, Chunk: i, Offset: off, Err: err})
		return
	}
	dec.decodeChunk(i, off, b, res)
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
			return false
		}
		r.stats.add(&res.stats)
		for _, e := range res.errs {
			r.report(e)
		}
		r.cur, r.pos = res, -1
	}
}

func (r *Reader) nextChunk(ctx context.Context) (*chunkResult, bool) {
	if r.opts.Workers == 1 {
		if r.next >= r.nchunks {
			return nil, false
		}
		if r.dec == nil {
			r.dec = newDecoder(r.name, &r.opts)
			if r.hook != nil {
				r.hook(r.dec)
			}
			r.buf = make([]byte, chunkSize)
			r.cur = &chunkResult{}
		}
		res := r.cur
		r.decodeInto(r.dec, r.buf, r.next, res)
		r.next++
		return res, true
	}
	if !r.started {
		r.start()
	}
	if r.cur != nil {
		r.free <- r.cur
		r.cur = nil
	}
	if r.next >= r.nchunks {
		return nil, false
	}
	for {
		if res, ok := r.pending[r.next]; ok {
			delete(r.pending, r.next)
			r.next++
			return res, true
		}
		select {
		case res := <-r.results:
			r.pending[res.index] = res
		case <-ctx.Done():
			r.err = ctx.Err()
			return nil, false
		}
	}
}

// start launches the workers. Each worker takes a free result slot before
// it takes the next chunk index, so the earliest undelivered chunk always
// has a slot and the bounded pool cannot deadlock.
func (r *Reader) start() {
	r.started = true
	w := r.opts.Workers
	slots := 2 * w
	r.done = make(chan struct{})
	r.results = make(chan *chunkResult, slots)
	r.free = make(chan *chunkResult, slots)
	r.pending = make(map[int]*chunkResult, slots)
	for i := 0; i < slots; i++ {
		r.free <- &chunkResult{}
	}
	for i := 0; i < w; i++ {
		r.wg.Add(1)
		go r.worker()
	}
}

func (r *Reader) worker() {
	defer r.wg.Done()
	dec := newDecoder(r.name, &r.opts)
	buf := make([]byte, chunkSize)
	for {
		var res *chunkResult
		select {
		case res = <-r.free:
		case <-r.done:
			return
		}
		i := int(r.jobs.Add(1) - 1)
		if i >= r.nchunks {
			return
		}
		r.decodeInto(dec, buf, i, res)
		select {
		case r.results <- res:
		case <-r.done:
			return
		}
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

// Position returns the chunk and record id of the current record.
func (r *Reader) Position() Position {
	if rec := r.Record(); rec != nil {
		return Position{Chunk: r.cur.index, RecordID: rec.RecordID}
	}
	return Position{}
}

// Err returns the error that stopped the iteration (I/O or cancellation).
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
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}
