package xmlevent

import (
	"bufio"
	"errors"
	"io"
)

// framer cuts the input into <Event> elements at the byte level, without
// parsing them: encoding/xml's Decoder stops for good at the first syntax
// error, so each event gets a decoder of its own and a broken event never
// costs its neighbours. Anything outside an <Event> element (an <Events>
// root, the XML declaration, comments, whitespace) is skipped. The framer
// honours comments, CDATA sections, processing instructions and quoted
// attribute values, and counts element depth to find the end of an event.
type framer struct {
	r    *bufio.Reader
	max  int
	buf  []byte
	line int   // line of the next unread byte
	off  int64 // offset of the next unread byte
}

type frame struct {
	data   []byte
	line   int
	size   int64
	tooBig bool
	bad    error
}

var errTruncated = errors.New("event is truncated (input ended inside it)")

// capture state shared by the helpers while an event is being read.
type capture struct {
	on     bool
	tooBig bool
}

func (f *framer) readByte(c *capture) (byte, error) {
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
func (f *framer) skipUntil(c *capture, term string) error {
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
func (f *framer) tag(c *capture, name []byte) (kind byte, nm []byte, err error) {
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
func (f *framer) next() (frame, error) {
	var c capture
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

func isTagEnd(b byte) bool {
	return b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '>' || b == '/'
}

// event captures one element whose '<' has just been read.
func (f *framer) event() (frame, error) {
	fr := frame{line: f.line}
	start := f.off - 1
	f.buf = append(f.buf[:0], '<')
	c := capture{on: true}
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
