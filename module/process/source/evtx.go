package source

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/procbeat/procbeat/evtx"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/winevent"
)

// evtxReader reads an EVTX file with the evtx package's parallel, ordered
// chunk decoder; its positions are evtx.Position packed into Offset and
// Check.
type evtxReader struct {
	r    *evtx.Reader
	errs decode.ErrorLog
	// pos is the position after the last record whose position was
	// asked for (or the start); mark, when marked, that of the current
	// record, turned into a Position only when asked for: a Declare peek
	// never asks, and so never pays for the scan of every chunk header
	// the first position costs (evtx.Reader.PositionOf).
	pos    Position
	mark   evtx.Mark
	marked bool
	closer io.Closer
}

func evtxOptions(pos Position, opts Options, a *evtxReader) evtx.Options {
	a.errs = decode.NewErrorLog(opts.Decode)
	return evtx.Options{Filter: opts.Filter, Start: evtx.UnpackPosition(pos.Offset, pos.Check), OnError: a.report, Growing: opts.Growing}
}

// openEVTX reads a random-access EVTX file from pos; a position that no
// longer fits the file (see evtx.Position) is dropped with a notice.
func openEVTX(f File, size int64, name string, pos Position, opts Options) (Reader, error) {
	a := &evtxReader{pos: pos, closer: f}
	r, err := evtx.NewReader(f, size, name, evtxOptions(pos, opts, a))
	if err != nil {
		return nil, err
	}
	if why := r.StartReset(); why != "" {
		opts.notice("%s: %s", name, why)
		a.pos = Position{}
	}
	a.r = r
	return a, nil
}

// openEVTXStream reads an EVTX stream (an archive member) from pos, chunk
// by chunk. A position whose chunk changed yields an error matching
// evtx.ErrPositionChanged: the caller opens the stream again from its start.
func openEVTXStream(r io.Reader, closer io.Closer, name string, pos Position, opts Options) (Reader, error) {
	a := &evtxReader{pos: pos, closer: closer}
	rd, err := evtx.NewStreamReader(r, name, evtxOptions(pos, opts, a))
	if err != nil {
		return nil, err
	}
	a.r = rd
	return a, nil
}

// report turns the EVTX reader's chunk and record errors into the decoders'
// error type, saying where as evtx dump does: the chunk, the record id
// when readable, the file offset. Index stays 0: an EVTX record has no
// index, and decode.RecordError would name the record id as one.
func (a *evtxReader) report(err error) {
	re := &decode.RecordError{Err: err}
	var rec *evtx.RecordError
	var chunk *evtx.ChunkError
	var file *evtx.FileError
	switch {
	case errors.As(err, &rec):
		re.File = rec.File
		re.Err = fmt.Errorf("%s: %w", rec.Where(), rec.Err)
	case errors.As(err, &chunk):
		re.File = chunk.File
		re.Err = fmt.Errorf("%s: %w", chunk.Where(), chunk.Err)
	case errors.As(err, &file):
		re.File, re.Err = file.File, file.Err
	}
	a.errs.Add(re)
}

func (a *evtxReader) Next(ctx context.Context) bool {
	if !a.r.Next(ctx) {
		return false
	}
	a.mark, a.marked = a.r.Mark(), true
	return true
}

func (a *evtxReader) Record() *winevent.Record { return a.r.Record() }

func (a *evtxReader) Position() Position {
	if a.marked {
		off, check := a.r.PositionOf(a.mark).Pack()
		a.pos, a.marked = Position{Offset: off, Check: check}, false
	}
	return a.pos
}

// Filtered is how many records the filter dropped before decoding them:
// they were read too, so that "records read" means the same for every
// format.
func (a *evtxReader) Filtered() int64 { return int64(a.r.Stats().Filtered) }

func (a *evtxReader) Err() error { return unlessEnded(a.r.Err()) }

func (a *evtxReader) Close() error {
	err := a.r.Close()
	if a.closer != nil {
		if cerr := a.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
