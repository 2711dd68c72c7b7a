package xmlevent

import (
	"bufio"
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// refFramer is the framer as it was before it worked on runs of its own
// read-ahead window (one bufio.Reader byte at a time); FuzzFramer compares
// the two.
type refFramer struct {
	r    *bufio.Reader
	max  int
	buf  []byte
	line int   // line of the next unread byte
	off  int64 // offset of the next unread byte
}

// refCapture state shared by the helpers while an event is being read.
type refCapture struct {
	on     bool
	tooBig bool
}

func (f *refFramer) readByte(c *refCapture) (byte, error) {
	b, err := f.r.ReadByte()
	if err != nil {
		return 0, err
	}
	f.off++
	if b == '\n' {
		f.line++
	}
	if c.on && !c.tooBig {
		if len(f.buf) >= f.max {
			c.tooBig = true
		} else {
			f.buf = append(f.buf, b)
		}
	}
	return b, nil
}

// skipUntil consumes bytes up to and including the terminator (at most 3
// bytes long), comparing a window of the last bytes read so that runs such
// as "--->" or "]]]>" are found.
func (f *refFramer) skipUntil(c *refCapture, term string) error {
	var win [3]byte
	n := len(term)
	seen := 0
	for {
		b, err := f.readByte(c)
		if err != nil {
			return err
		}
		win[0], win[1], win[2] = win[1], win[2], b
		seen++
		if seen >= n && string(win[3-n:]) == term {
			return nil
		}
	}
}

// tag reads the rest of a tag after '<' and reports its kind: 's' start,
// 'e' end, 'x' self-closing, 'o' other (comment, PI, CDATA, declaration),
// with the element name for start tags.
func (f *refFramer) tag(c *refCapture, name []byte) (kind byte, nm []byte, err error) {
	b, err := f.readByte(c)
	if err != nil {
		return 0, nil, err
	}
	switch b {
	case '?':
		return 'o', nil, f.skipUntil(c, "?>")
	case '!':
		p, _ := f.r.Peek(7)
		switch {
		case len(p) >= 2 && p[0] == '-' && p[1] == '-':
			return 'o', nil, f.skipUntil(c, "-->")
		case len(p) >= 7 && string(p) == "[CDATA[":
			return 'o', nil, f.skipUntil(c, "]]>")
		default:
			return 'o', nil, f.skipUntil(c, ">")
		}
	case '/':
		return 'e', nil, f.skipUntil(c, ">")
	}
	nm = append(name[:0], b)
	inName := true
	var quote byte
	last := b
	for {
		b, err = f.readByte(c)
		if err != nil {
			return 0, nil, err
		}
		if quote != 0 {
			if b == quote {
				quote = 0
			}
			continue
		}
		switch b {
		case '"', '\'':
			quote = b
			inName = false
		case '>':
			if last == '/' {
				return 'x', nm, nil
			}
			return 's', nm, nil
		case ' ', '\t', '\r', '\n', '/':
			inName = false
		default:
			if inName {
				nm = append(nm, b)
			}
		}
		last = b
	}
}

// next returns the next <Event> element, io.EOF at the end, or a fatal
// read error.
func (f *refFramer) next() (frame, error) {
	var c refCapture
	var name [16]byte
	for {
		b, err := f.readByte(&c)
		if err != nil {
			return frame{}, err
		}
		if b != '<' {
			continue
		}
		if p, _ := f.r.Peek(6); len(p) == 6 && string(p[:5]) == "Event" && isTagEnd(p[5]) {
			return f.event()
		}
		if _, _, err := f.tag(&c, name[:0]); err != nil {
			return frame{}, err
		}
	}
}

// event captures one element whose '<' has just been read.
func (f *refFramer) event() (frame, error) {
	fr := frame{line: f.line}
	start := f.off - 1
	f.buf = append(f.buf[:0], '<')
	c := refCapture{on: true}
	var name [16]byte
	depth := 0
	for {
		kind, _, err := f.tag(&c, name[:0])
		if err != nil {
			if err == io.EOF {
				fr.bad, fr.size = errTruncated, f.off-start
				return fr, nil
			}
			return frame{}, err
		}
		switch kind {
		case 's':
			depth++
		case 'e':
			depth--
		}
		if depth <= 0 {
			break
		}
		for {
			b, err := f.readByte(&c)
			if err != nil {
				if err == io.EOF {
					fr.bad, fr.size = errTruncated, f.off-start
					return fr, nil
				}
				return frame{}, err
			}
			if b == '<' {
				break
			}
		}
	}
	fr.size = f.off - start
	fr.tooBig = c.tooBig
	if !c.tooBig {
		fr.data = f.buf
	}
	return fr, nil
}

// FuzzFramer frames each input with the framer and with refFramer, the
// input coming one byte, half a buffer or all at once per read, and with a
// small size limit: the frames, their lines, sizes and errors, and the
// offsets must be the same.
func FuzzFramer(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	for _, name := range []string{"testdata/sysmon.xml", "testdata/security.xml", "testdata/userdata.xml"} {
		f.Add(file(f, name))
	}
	f.Add([]byte("<!-- x <Event> y ---><Events><![CDATA[ <Event> ]]]><Event a='>'/><Event><x/>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, max := range []int{64, 1 << 20} {
			for _, r := range []io.Reader{iotest.OneByteReader(bytes.NewReader(data)), iotest.HalfReader(bytes.NewReader(data)), bytes.NewReader(data)} {
				got := newFramer(r, max)
				want := refFramer{r: bufio.NewReaderSize(bytes.NewReader(data), 64<<10), max: max, line: 1}
				for i := 0; ; i++ {
					gf, gerr := got.next()
					wf, werr := want.next()
					if gerr != werr || gf.line != wf.line || gf.size != wf.size || gf.tooBig != wf.tooBig || gf.bad != wf.bad ||
						!bytes.Equal(gf.data, wf.data) || got.off != want.off || got.line != want.line {
						t.Fatalf("max %d, frame %d of %q:\ngot  %+v %v (off %d line %d)\nwant %+v %v (off %d line %d)",
							max, i, data, gf, gerr, got.off, got.line, wf, werr, want.off, want.line)
					}
					if gerr != nil {
						break
					}
				}
			}
		}
	})
}
