package jsonevent

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

// refFramer is the framer as it was before it scanned runs of the buffered
// input (one bufio byte at a time); FuzzFramer compares the two.
type refFramer struct {
	r     *bufio.Reader
	max   int
	buf   []byte
	line  int   // line of the next unread byte, 1-based
	off   int64 // offset of the next unread byte
	array bool  // inside a top-level array
	begun bool  // a first value has been seen
	// single is 1 once the first record turned out to fit on one line:
	// from then on a newline inside an unfinished record means the line
	// was truncated, and the record is reported rather than merged with
	// the next line. -1 means records span lines (pretty-printed).
	single int8
}

func (f *refFramer) readByte() (byte, error) {
	c, err := f.r.ReadByte()
	if err == nil {
		f.off++
		if c == '\n' {
			f.line++
		}
	}
	return c, err
}

// next returns the next value, io.EOF at the end, or a fatal read error.
func (f *refFramer) next() (frame, error) {
	for {
		b, err := f.r.Peek(1)
		if err != nil {
			return frame{}, err
		}
		c := b[0]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			// White space, even before the first value, is no
			// value: a '[' after it still opens an array.
			_, _ = f.readByte()
			continue
		case c == ',' && f.array:
		case c == ']' && f.array:
			f.array = false
		case c == '[' && !f.begun:
			f.array = true
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
		depth, inStr, esc := 0, false, false
		for {
			if f.array && depth == 0 && !inStr {
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
			switch {
			case inStr && esc:
				esc = false
			case inStr && c == '\\':
				esc = true
			case c == '"':
				inStr = !inStr
			case !inStr && (c == '[' || c == '{'):
				depth++
			case !inStr && (c == ']' || c == '}'):
				depth--
			}
		}
		fr.bad, fr.size = errNotObject, f.off-start
		return fr, nil
	}
	depth, inStr, esc, sawNL := 0, false, false, false
	for {
		c, err := f.readByte()
		if err != nil {
			if err == io.EOF {
				fr.bad, fr.size = errTruncated, f.off-start
				return fr, nil
			}
			return frame{}, err
		}
		if c == '\n' {
			sawNL = true
			// JSON forbids raw newlines in strings; on one-record-per-line
			// input an open object at a newline is a cut line.
			if inStr || (f.single == 1 && !f.array && depth > 0) {
				fr.bad, fr.size = errTruncated, f.off-start
				return fr, nil
			}
		}
		if !fr.tooBig {
			if len(f.buf) >= f.max {
				fr.tooBig = true
			} else {
				f.buf = append(f.buf, c)
			}
		}
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
		if depth == 0 {
			break
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

// FuzzFramer frames each input with the framer and with refFramer, with
// small and large buffers and record limits: the frames, their lines,
// sizes and errors, and the offsets must be the same.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"b\":\"x\\\"}\"}\n[1,{\"c\":[2]}]\n{\"d\":\n"))
	f.Add([]byte("[{\"a\":1},\n {\"b\":2}, 3, \"s\"]{\"x\":{}}"))
	for _, name := range []string{"testdata/beat8.ndjson", "testdata/broken.ndjson", "testdata/mixed.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, max := range []int{16, 1 << 20} {
			for _, size := range []int{16, 64 << 10} {
				got := framer{r: bufio.NewReaderSize(iotest.HalfReader(bytes.NewReader(data)), size), max: max, line: 1}
				want := refFramer{r: bufio.NewReaderSize(bytes.NewReader(data), 64<<10), max: max, line: 1}
				for i := 0; ; i++ {
					gf, gerr := got.next()
					wf, werr := want.next()
					if gerr != werr || gf.line != wf.line || gf.size != wf.size || gf.tooBig != wf.tooBig || gf.bad != wf.bad ||
						!bytes.Equal(gf.data, wf.data) || got.off != want.off || got.line != want.line {
						t.Fatalf("max %d buffer %d, frame %d of %q:\ngot  %+v %v (off %d line %d)\nwant %+v %v (off %d line %d)",
							max, size, i, data, gf, gerr, got.off, got.line, wf, werr, want.off, want.line)
					}
					if gerr != nil {
						break
					}
				}
			}
		}
	})
}
