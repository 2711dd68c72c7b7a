package beater

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/procbeat/procbeat/evtx"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/winevent"
)

// EVTXOpener returns the source hook that reads .evtx files with our reader:
// only the records the mapping wants are decoded, and a file resumes after
// record id after without decoding the chunks before it.
func EVTXOpener(ctx context.Context, after uint64) source.EVTXOpener {
	return func(r io.ReaderAt, size int64, name string, opts decode.Options) (decode.Reader, error) {
		a := &evtxReader{ctx: ctx, errs: decode.NewErrorLog(opts)}
		rd, err := evtx.NewReader(r, size, name, evtx.Options{
			Filter:  mapping.Wants,
			After:   after,
			OnError: a.report,
		})
		if err != nil {
			// The source opener names the file already.
			var fe *evtx.FileError
			if errors.As(err, &fe) && fe.File == name {
				return nil, fe.Err
			}
			return nil, err
		}
		a.r = rd
		return a, nil
	}
}

// evtxReader adapts *evtx.Reader to decode.Reader.
type evtxReader struct {
	ctx  context.Context
	r    *evtx.Reader
	errs decode.ErrorLog
}

func (a *evtxReader) report(err error) {
	re := &decode.RecordError{Err: err}
	var rec *evtx.RecordError
	var chunk *evtx.ChunkError
	switch {
	case errors.As(err, &rec):
		re.File, re.Index = rec.File, int(rec.Record)
		re.Err = fmt.Errorf("chunk %d: %w", rec.Chunk, rec.Err)
	case errors.As(err, &chunk):
		re.File = chunk.File
		re.Err = fmt.Errorf("chunk %d: %w", chunk.Chunk, chunk.Err)
	}
	a.errs.Add(re)
}

// Filtered is how many records the filter dropped before decoding them.
func (a *evtxReader) Filtered() int64 { return int64(a.r.Stats().Filtered) }

func (a *evtxReader) Next() bool                    { return a.r.Next(a.ctx) }
func (a *evtxReader) Record() *winevent.Record      { return a.r.Record() }
func (a *evtxReader) Err() error                    { return a.r.Err() }
func (a *evtxReader) Errors() []*decode.RecordError { return a.errs.Errors() }
func (a *evtxReader) ErrorCount() int               { return a.errs.Total() }
