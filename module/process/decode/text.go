package decode

import (
	"bufio"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// NewTextReader returns a reader of UTF-8 text for r: a UTF-8 byte order
// mark is dropped, and UTF-16 input (with a byte order mark, or without one
// when the first character is ASCII, as PowerShell's `>` redirection of
// wevtutil writes it) is transcoded to UTF-8. Other input passes through.
func NewTextReader(r io.Reader) io.Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	head, _ := br.Peek(4)
	enc := DetectEncoding(head)
	if enc.BOM > 0 {
		_, _ = br.Discard(enc.BOM)
	}
	if enc.UTF16 {
		return &utf16Reader{r: br, little: enc.Little}
	}
	return br
}

// Encoding is how a text input is encoded, as NewTextReader sees it.
type Encoding struct {
	BOM    int  // length of the byte order mark NewTextReader drops
	UTF16  bool // transcoded from UTF-16: text offsets are not file offsets
	Little bool // UTF-16 little-endian
}

// DetectEncoding tells the encoding from the first 4 bytes of a text
// input, as NewTextReader does.
func DetectEncoding(head []byte) Encoding {
	switch {
	case len(head) >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF:
		return Encoding{BOM: 3}
	case len(head) >= 2 && head[0] == 0xFF && head[1] == 0xFE:
		return Encoding{BOM: 2, UTF16: true, Little: true}
	case len(head) >= 2 && head[0] == 0xFE && head[1] == 0xFF:
		return Encoding{BOM: 2, UTF16: true}
	case len(head) >= 4 && head[0] != 0 && head[1] == 0 && head[2] != 0 && head[3] == 0:
		return Encoding{UTF16: true, Little: true}
	case len(head) >= 4 && head[0] == 0 && head[1] != 0 && head[2] == 0 && head[3] != 0:
		return Encoding{UTF16: true}
	}
	return Encoding{}
}

// utf16Reader transcodes UTF-16 to UTF-8. Unpaired surrogates become
// U+FFFD, as Windows' own renderers do.
type utf16Reader struct {
	r      *bufio.Reader
	little bool
	buf    []byte // backing store for out
	out    []byte // transcoded bytes not yet returned
	err    error
}

func (u *utf16Reader) unit() (uint16, error) {
	a, err := u.r.ReadByte()
	if err != nil {
		return 0, err
	}
	b, err := u.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	if u.little {
		return uint16(a) | uint16(b)<<8, nil
	}
	return uint16(b) | uint16(a)<<8, nil
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		u.fill()
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

func (u *utf16Reader) fill() {
	if u.buf == nil {
		u.buf = make([]byte, 0, 16<<10)
	}
	buf := u.buf[:0]
	for len(buf) < cap(buf)-8 {
		c, err := u.unit()
		if err != nil {
			u.err = err
			break
		}
		r := rune(c)
		if utf16.IsSurrogate(r) {
			if c < 0xDC00 {
				if b, ok := u.peekUnit(); ok && b >= 0xDC00 && b <= 0xDFFF {
					_, _ = u.unit()
					r = utf16.DecodeRune(r, rune(b))
				} else {
					r = utf8.RuneError
				}
			} else {
				r = utf8.RuneError
			}
		}
		buf = utf8.AppendRune(buf, r)
	}
	u.out = buf
}

func (u *utf16Reader) peekUnit() (uint16, bool) {
	b, err := u.r.Peek(2)
	if err != nil {
		return 0, false
	}
	if u.little {
		return uint16(b[0]) | uint16(b[1])<<8, true
	}
	return uint16(b[1]) | uint16(b[0])<<8, true
}
