package source

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/decode/jsonevent"
	"github.com/procbeat/procbeat/module/process/decode/xmlevent"
	"github.com/procbeat/procbeat/winevent"
)

// checkLen is how many leading bytes of a text export its positions'
// Check covers: a file replaced by another one at the same path differs
// there (the first record's time and ids), while a file that only grew
// does not.
const checkLen = 4096

// textCheck validates a text position: a hash of the export's first bytes,
// up to the position (a file that was shorter than checkLen grows there).
func textCheck(head []byte, off uint64) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range head[:min(uint64(len(head)), off)] {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h | 1
}

// textDecoder is what xmlevent and jsonevent decoders offer.
type textDecoder interface {
	decode.Reader
	Offset() int64
	Where() (line, index int, from int64)
}

// textReader reads an XML or JSON export. Its positions are byte offsets
// just past each record: in the file for UTF-8 input, in the transcoded text
// for UTF-16 input (which is then skipped up to the offset on resume rather
// than seeked, as UTF-16 and UTF-8 offsets differ).
type textReader struct {
	d      textDecoder
	base   uint64 // offset the decoder started at
	head   []byte
	pos    Position
	full   uint64 // textCheck once the offset passed head
	closer io.Closer
	// fromStart is set when the input is read from its start, and n counts
	// its events: an export with none is not an event export.
	fromStart bool
	n         int64
}

// textInput is an opened export: its leading bytes, and either random
// access (a file: seek) or a stream (an archive member: skip).
type textInput struct {
	name   string
	r      io.Reader
	head   []byte // up to checkLen leading bytes
	size   int64  // -1 for a stream
	seek   func(off int64) error
	closer io.Closer
}

// openText opens an export at pos. A position that no longer fits the
// input (shorter than it, or different leading bytes: the file was replaced)
// is dropped with a notice and the input is read from its start.
func openText(ctx context.Context, in textInput, format Format, pos Position, opts Options) (Reader, error) {
	enc := decode.DetectEncoding(in.head)
	if !pos.IsZero() {
		switch {
		case in.size >= 0 && !enc.UTF16 && pos.Offset > uint64(in.size):
			opts.notice("%s: the file is shorter (%d bytes) than its saved position (byte %d): it was replaced or truncated, reading it from its start", in.name, in.size, pos.Offset)
			pos = Position{}
		case textCheck(in.head, pos.Offset) != pos.Check:
			opts.notice("%s: the file's first bytes changed since its saved position (byte %d): it was replaced, reading it from its start", in.name, pos.Offset)
			pos = Position{}
		}
	}
	var src io.Reader = ctxReader{ctx: ctx, r: in.r}
	base := uint64(0)
	switch {
	case pos.IsZero():
		if in.seek != nil {
			if err := in.seek(0); err != nil {
				return nil, fmt.Errorf("%s: %w", in.name, err)
			}
		}
		if !enc.UTF16 {
			base = uint64(enc.BOM) // NewTextReader drops it
		}
	case enc.UTF16:
		// Transcoded offsets: skip the text up to the position.
		if in.seek != nil {
			if err := in.seek(0); err != nil {
				return nil, fmt.Errorf("%s: %w", in.name, err)
			}
		}
		tr := decode.NewTextReader(bufio.NewReaderSize(src, 64<<10))
		if _, err := io.CopyN(io.Discard, tr, int64(pos.Offset)); err != nil {
			return nil, fmt.Errorf("%s: skipping to the saved position (text byte %d): %w", in.name, pos.Offset, err)
		}
		src, base = tr, pos.Offset
	case in.seek != nil:
		if err := in.seek(int64(pos.Offset)); err != nil {
			return nil, fmt.Errorf("%s: %w", in.name, err)
		}
		base = pos.Offset
	default:
		if _, err := io.CopyN(io.Discard, src, int64(pos.Offset)); err != nil {
			return nil, fmt.Errorf("%s: skipping to the saved position (byte %d): %w", in.name, pos.Offset, err)
		}
		base = pos.Offset
	}
	t := &textReader{base: base, head: in.head, pos: pos, closer: in.closer, fromStart: pos.IsZero()}
	dopts := opts.Decode
	dopts.Growing = opts.Growing
	dopts.From = int64(base)
	if dopts.Notice == nil {
		dopts.Notice = opts.Notice
	}
	switch format {
	case FormatXML:
		d := xmlevent.NewDecoder(src, in.name, dopts)
		if !pos.IsZero() {
			d.ResumeAfter(in.head)
		}
		t.d = d
	default:
		d := jsonevent.NewDecoder(src, in.name, dopts)
		if !pos.IsZero() && firstChar(in.head) == '[' {
			d.ResumeInArray()
		}
		t.d = d
	}
	return t, nil
}

// firstChar is the first character of an export, past a byte order mark,
// white space and the zero bytes of UTF-16.
func firstChar(head []byte) byte {
	for _, c := range head {
		switch c {
		case 0, ' ', '\t', '\r', '\n', 0xEF, 0xBB, 0xBF, 0xFF, 0xFE:
			continue
		}
		return c
	}
	return 0
}

func (t *textReader) Next(ctx context.Context) bool {
	if ctx.Err() != nil || !t.d.Next() {
		return false
	}
	off := t.base + uint64(t.d.Offset())
	check := t.full
	if off < uint64(len(t.head)) || check == 0 {
		check = textCheck(t.head, off)
		if off >= uint64(len(t.head)) {
			t.full = check
		}
	}
	t.pos = Position{Offset: off, Check: check}
	t.n++
	return true
}

// NoEvents reports whether the input, read from its start to its end,
// held no event at all (unrelated JSON, XML that is not event XML, an empty
// file): an error for the runner, where an empty EVTX file is not.
func (t *textReader) NoEvents() bool { return t.fromStart && t.n == 0 && t.Err() == nil }

func (t *textReader) Record() *winevent.Record { return t.d.Record() }

// Where is the current record's line (0 if unknown) and 1-based index in
// the export (see Locator).
func (t *textReader) Where() (line, index int, from int64) { return t.d.Where() }
func (t *textReader) Position() Position                   { return t.pos }

// Err is the decoder's fatal error; an ended context is not one.
func (t *textReader) Err() error { return unlessEnded(t.d.Err()) }

func (t *textReader) Close() error {
	if t.closer == nil {
		return nil
	}
	return t.closer.Close()
}
