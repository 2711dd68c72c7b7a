package xmlevent

import (
	"bytes"
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
// It reads ahead into a window of its own and works on runs of it: text up
// to the next '<' is skipped with one search, a tag in one loop, and the
// captured bytes are copied a run at a time.
type framer struct {
	src  io.Reader
	win  []byte // read-ahead: win[i:n] is unread
	i, n int
	err  error // what src returned last, seen once win is drained
	max  int
	buf  []byte
	cap  capture // while an event is being read
	line int     // line of the next unread byte
	off  int64   // offset of the next unread byte
	last byte    // the last byte read, for the line the input ends on
	// open counts the elements around the events that are open (an
	// <Events> root): the input must not end inside one. root is the
	// outermost one's name and rootLine its line.
	open     int
	root     []byte
	rootLine int
}

type frame struct {
	data   []byte
	line   int
	size   int64
	tooBig bool
	bad    error
}

var errTruncated = errors.New("event is truncated (input ended inside it)")

// capture is what happens to the bytes read while an event is read.
type capture struct {
	on     bool
	tooBig bool
}

func newFramer(src io.Reader, max int) framer {
	return framer{src: src, win: make([]byte, 64<<10), max: max, line: 1}
}

// more reads from src into the window, keeping its unread bytes; false
// when nothing more comes (f.err says why).
func (f *framer) more() bool {
	if f.i > 0 {
		f.n = copy(f.win, f.win[f.i:f.n])
		f.i = 0
	}
	for f.err == nil && f.n < len(f.win) {
		m, err := f.src.Read(f.win[f.n:])
		f.n += m
		if err != nil {
			f.err = err
		}
		if m > 0 {
			return true
		}
	}
	return false
}

// unread returns the unread bytes of the window, reading more when it is
// empty; an error at the end of the input.
func (f *framer) unread() ([]byte, error) {
	if f.i >= f.n && !f.more() {
		if f.err == nil {
			f.err = io.ErrNoProgress
		}
		return nil, f.err
	}
	return f.win[f.i:f.n], nil
}

// peek returns up to k unread bytes without consuming them (fewer at the
// end of the input).
func (f *framer) peek(k int) []byte {
	for f.n-f.i < k && f.more() {
	}
	return f.win[f.i:min(f.n, f.i+k)]
}

// consume moves past the next j unread bytes: offset, lines, capture.
func (f *framer) consume(j int) {
	b := f.win[f.i : f.i+j]
	if j > 0 {
		f.last = b[j-1]
	}
	f.i += j
	f.off += int64(j)
	f.line += bytes.Count(b, []byte{'\n'})
	if f.cap.on && !f.cap.tooBig {
		if room := f.max - len(f.buf); j > room {
			f.buf = append(f.buf, b[:room]...)
			f.cap.tooBig = true
		} else {
			f.buf = append(f.buf, b...)
		}
	}
}

func (f *framer) readByte() (byte, error) {
	w, err := f.unread()
	if err != nil {
		return 0, err
	}
	b := w[0]
	f.consume(1)
	return b, nil
}

// skipTo consumes bytes up to and including the next c.
func (f *framer) skipTo(c byte) error {
	for {
		w, err := f.unread()
		if err != nil {
			return err
		}
		if k := bytes.IndexByte(w, c); k >= 0 {
			f.consume(k + 1)
			return nil
		}
		f.consume(len(w))
	}
}

// skipUntil consumes bytes up to and including the terminator (at most 3
// bytes long), comparing a window of the last bytes read so that runs such
// as "--->" or "]]]>" are found.
func (f *framer) skipUntil(term string) error {
	var win [3]byte
	n := len(term)
	seen := 0
	for {
		w, err := f.unread()
		if err != nil {
			return err
		}
		for k, b := range w {
			win[0], win[1], win[2] = win[1], win[2], b
			seen++
			if seen >= n && string(win[3-n:]) == term {
				f.consume(k + 1)
				return nil
			}
		}
		f.consume(len(w))
	}
}

// tag reads the rest of a tag after '<' and reports its kind: 's' start,
// 'e' end, 'x' self-closing, 'o' other (comment, PI, CDATA, declaration).
func (f *framer) tag() (kind byte, err error) {
	b, err := f.readByte()
	if err != nil {
		return 0, err
	}
	switch b {
	case '?':
		return 'o', f.skipUntil("?>")
	case '!':
		p := f.peek(7)
		switch {
		case len(p) >= 2 && p[0] == '-' && p[1] == '-':
			return 'o', f.skipUntil("-->")
		case len(p) >= 7 && string(p) == "[CDATA[":
			return 'o', f.skipUntil("]]>")
		default:
			return 'o', f.skipUntil(">")
		}
	case '/':
		return 'e', f.skipUntil(">")
	}
	// Up to the '>' outside quotes; the byte before it (outside quotes)
	// says whether the element closes itself.
	var quote byte
	last := b
	for {
		w, err := f.unread()
		if err != nil {
			return 0, err
		}
		for k, b := range w {
			if quote != 0 {
				if b == quote {
					quote = 0
				}
				continue
			}
			switch b {
			case '"', '\'':
				quote = b
			case '>':
				f.consume(k + 1)
				if last == '/' {
					return 'x', nil
				}
				return 's', nil
			}
			last = b
		}
		f.consume(len(w))
	}
}

// next returns the next <Event> element, io.EOF at the end, or a fatal
// read error.
func (f *framer) next() (frame, error) {
	f.cap = capture{}
	if err := f.toEvent(); err != nil {
		return frame{}, err
	}
	return f.event()
}

// toEvent skips what lies before the next <Event> element, up to and
// including its '<', counting the elements that open around it.
func (f *framer) toEvent() error {
	for {
		if err := f.skipTo('<'); err != nil {
			return err
		}
		if p := f.peek(6); len(p) == 6 && string(p[:5]) == "Event" && isTagEnd(p[5]) {
			return nil
		}
		if f.open == 0 {
			f.noteRoot()
		}
		kind, err := f.tag()
		if err != nil {
			return err
		}
		switch {
		case kind == 's':
			f.open++
		case kind == 'e' && f.open > 0:
			// An end tag with nothing open: reading resumed inside
			// the root.
			f.open--
		}
	}
}

// noteRoot keeps the name and line of the tag whose '<' has just been
// read, should it open the outermost element around the events.
func (f *framer) noteRoot() {
	p := f.peek(64)
	k := 0
	for k < len(p) && !isTagEnd(p[k]) {
		k++
	}
	f.root, f.rootLine = append(f.root[:0], p[:k]...), f.line
}

// endLine is the line the input ended on: the last line holding a byte.
func (f *framer) endLine() int {
	if f.last == '\n' && f.line > 1 {
		return f.line - 1
	}
	return f.line
}

func isTagEnd(b byte) bool {
	return b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '>' || b == '/'
}

// event captures one element whose '<' has just been read.
func (f *framer) event() (frame, error) {
	fr := frame{line: f.line}
	start := f.off - 1
	f.buf = append(f.buf[:0], '<')
	f.cap = capture{on: true}
	defer func() { f.cap = capture{} }()
	depth := 0
	for {
		kind, err := f.tag()
		if err == nil {
			switch kind {
			case 's':
				depth++
			case 'e':
				depth--
			}
			if depth <= 0 {
				break
			}
			err = f.skipTo('<')
		}
		if err != nil {
			if err == io.EOF {
				// The event's error says the input is cut: the
				// root it was in is not reported again.
				f.open = 0
				fr.bad, fr.size = errTruncated, f.off-start
				return fr, nil
			}
			return frame{}, err
		}
	}
	fr.size = f.off - start
	fr.tooBig = f.cap.tooBig
	if !f.cap.tooBig {
		fr.data = f.buf
	}
	return fr, nil
}
