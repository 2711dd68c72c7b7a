package source

import (
	"errors"
	"testing"

	"github.com/procbeat/procbeat/evtx"
	"github.com/procbeat/procbeat/module/process/decode"
)

// TestEVTXErrorsSayWhere: an EVTX error reaches the decoders' error type
// saying where, as evtx dump says it: the chunk, the record id when the
// record's header could be read, the file offset; and what it wraps.
func TestEVTXErrorsSayWhere(t *testing.T) {
	var got []*decode.RecordError
	a := &evtxReader{errs: decode.NewErrorLog(decode.Options{OnError: func(e *decode.RecordError) { got = append(got, e) }})}
	for _, c := range []struct {
		err  error
		want string
	}{
		{&evtx.RecordError{File: "a.evtx", Chunk: 1, Record: 0, Offset: 0x19088, Err: evtx.ErrRecordMagic},
			"a.evtx: chunk 1 record at file offset 0x19088: bad record magic"},
		{&evtx.RecordError{File: "a.evtx", Chunk: 0, Record: 3, Offset: 0x1820, Err: evtx.ErrZeroSize},
			"a.evtx: chunk 0 record 3 (file offset 0x1820): record with zero data size"},
		{&evtx.ChunkError{File: "a.evtx", Chunk: 9, Offset: 0x91000, Err: evtx.ErrBadChunkMagic},
			"a.evtx: chunk 9 (file offset 0x91000): bad chunk magic"},
		{&evtx.FileError{File: "a.evtx", Err: evtx.ErrFileChecksum},
			"a.evtx: file header checksum mismatch"},
	} {
		got = got[:0]
		a.report(c.err)
		if len(got) != 1 || got[0].Error() != c.want || got[0].File != "a.evtx" || !errors.Is(got[0], errors.Unwrap(c.err)) {
			t.Errorf("%v: reported %v, want %q", c.err, got, c.want)
		}
		// The same words as evtx dump's.
		if c.err.Error() != c.want {
			t.Errorf("evtx says %q, replay %q", c.err, c.want)
		}
	}
}
