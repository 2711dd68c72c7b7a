package jsonevent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// framer cuts the input into top-level JSON values without parsing them,
// so that one bad or oversized record never costs its neighbours and memory
// stays bounded by the record cap. It accepts NDJSON, concatenated
// (pretty-printed) objects and a top-level array of objects.
type framer struct {
	r     *bufio.Reader
	max   int
	buf   []byte
	line  int   // line of the next unread byte, 1-based
	off   int64 // offset of the next unread byte
	array bool  // inside a top-level array
	begun bool  // a first value has been seen
	// arrayLine is the line of the top-level array's '[' (0: unknown,
	// the reading resumed inside it).
	arrayLine int
	last      byte // the last byte read, for the line the input ends on
	// single is 1 once the first record turned out to fit on one line:
	// from then on a newline inside an unfinished record means the line
	// was truncated, and the record is reported rather than merged with
	// the next line. -1 means records span lines (pretty-printed).
	single int8
}

// frame is one top-level value.
type frame struct {
	data   []byte // the value's bytes, nil when tooBig
	line   int    // line where the value starts
	tooBig bool
	size   int64 // bytes the value spans
	bad    error // framing problem (truncated, not an object)
}

var (
	errTruncated = errors.New("record is truncated (unterminated string or object)")
	errNotObject = errors.New("not a JSON object")
)

func (f *framer) readByte() (byte, error) {
	c, err := f.r.ReadByte()
	if err == nil {
		f.off++
		f.last = c
		if c == '\n' {
			f.line++
		}
	}
	return c, err
}

// next returns the next value, io.EOF at the end, or a fatal read error.
func (f *framer) next() (frame, error) {
	for {
		b, err := f.r.Peek(1)
		if err != nil {
			return frame{}, err
		}
		c := b[0]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			// White space before the first value leaves room for
			// the '[' of an array.
			_, _ = f.readByte()
			continue
		case c == ',' && f.array:
		case c == ']' && f.array:
			f.array = false
		case c == '[' && !f.begun:
			f.array, f.arrayLine = true, f.line
		default:
			goto value
		}
		f.begun = true
		_, _ = f.readByte()
	}
value:
	f.begun = true
	fr := frame{line: f.line}
	start := f.off
	f.buf = f.buf[:0]
	if b, _ := f.r.Peek(1); b[0] != '{' {
		// Garbage: outside an array report the rest of the line once;
		// inside one skip the element (nested arrays and strings included)
		// up to the next separator.
		var n nesting
		for {
			if f.array && n.depth == 0 && !n.inStr {
				if b, err := f.r.Peek(1); err == nil && (b[0] == ',' || b[0] == ']') {
					break
				}
			}
			c, err := f.readByte()
			if err != nil || (c == '\n' && !f.array) {
				if err != nil && err != io.EOF {
					return frame{}, err
				}
				break
			}
			n = n.step(c)
		}
		fr.bad, fr.size = errNotObject, f.off-start
		return fr, nil
	}
	// The object: runs of the buffered input are scanned in one loop,
	// then counted, captured and discarded together.
	var n nesting
	sawNL := false
	for done := false; !done; {
		if _, err := f.r.Peek(1); err != nil {
			if err == io.EOF {
				// The record's error says the input is cut: the
				// array it was in is not reported again.
				f.array = false
				fr.bad, fr.size = errTruncated, f.off-start
				return fr, nil
			}
			return frame{}, err
		}
		p, _ := f.r.Peek(f.r.Buffered())
		cut := false
		k := 0
		for k < len(p) && !done && !cut {
			c := p[k]
			k++
			if c == '\n' {
				sawNL = true
				// JSON forbids raw newlines in strings; on one-record-per-line
				// input an open object at a newline is a cut line.
				if n.inStr || (f.single == 1 && !f.array && n.depth > 0) {
					cut = true
					break
				}
			}
			n = n.step(c)
			// Inside a string depth is above 0: the object is open.
			done = n.depth == 0
		}
		seg := p[:k]
		if k > 0 {
			f.last = p[k-1]
		}
		f.off += int64(k)
		f.line += bytes.Count(seg, []byte{'\n'})
		if cut {
			seg = seg[:k-1] // the newline that cut the record is not kept
		}
		if !fr.tooBig {
			if room := f.max - len(f.buf); len(seg) > room {
				f.buf = append(f.buf, seg[:room]...)
				fr.tooBig = true
			} else {
				f.buf = append(f.buf, seg...)
			}
		}
		f.r.Discard(k)
		if cut {
			fr.bad, fr.size = errTruncated, f.off-start
			return fr, nil
		}
	}
	if f.single == 0 && !f.array {
		if sawNL {
			f.single = -1
		} else {
			f.single = 1
		}
	}
	fr.size = f.off - start
	if !fr.tooBig {
		fr.data = f.buf
	}
	return fr, nil
}

// endLine is the line the input ended on: the last line holding a byte.
func (f *framer) endLine() int {
	if f.last == '\n' && f.line > 1 {
		return f.line - 1
	}
	return f.line
}

// openArray names the top-level array the input ended inside.
func (f *framer) openArray() string {
	if f.arrayLine == 0 {
		return "the top-level JSON array (no closing ']')"
	}
	return fmt.Sprintf("the top-level JSON array opened on line %d (no closing ']')", f.arrayLine)
}
