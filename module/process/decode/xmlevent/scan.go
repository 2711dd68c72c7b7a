package xmlevent

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The event scanner: one pass over an <Event> element's bytes, without
// reflection, token values or per-token allocations. It accepts and rejects
// what encoding/xml's Decoder (Strict, RawToken, no CharsetReader) does for
// the XML that Windows' renderer, `wevtutil qe /f:xml` and Get-WinEvent's
// ToXml() write, and reports syntax errors with its messages and lines:
// entities (the five predefined ones and character references), CDATA
// sections, comments, processing instructions, directives, namespace
// prefixes (names are matched by their local part), attributes in single or
// double quotes, CR LF and CR read as LF, UTF-8 validity and the XML
// character range checked in text and attribute values. FuzzScanMatchesXML
// compares it with the encoding/xml decoder it replaces.
//
// One difference: names with characters beyond ASCII are checked with
// Unicode's letter, digit and mark classes, not XML 1.0's exact tables
// (Windows event XML has ASCII names).

// syntaxError is a malformed event, worded as encoding/xml words it.
type syntaxError struct {
	line int // 1-based, within the event
	msg  string
}

func (e *syntaxError) Error() string {
	return "XML syntax error on line " + strconv.Itoa(e.line) + ": " + e.msg
}

// scanner reads one event's bytes; pos is the next unread byte.
type scanner struct {
	data []byte
	pos  int
}

// line returns the 1-based line of byte offset p.
func (s *scanner) line(p int) int { return 1 + bytes.Count(s.data[:p], []byte{'\n'}) }

// errAt is a syntax error on the line of the next unread byte (where
// encoding/xml's line counter stands when it fails).
func (s *scanner) errAt(msg string) error { return &syntaxError{line: s.line(s.pos), msg: msg} }

func (s *scanner) eof() error { return s.errAt("unexpected EOF") }

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\r', '\n', '\t':
			s.pos++
		default:
			return
		}
	}
}

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

// readName consumes a run of name bytes (ASCII name characters and any
// byte from 0x80); ok is false, nothing consumed, when there is none. At
// the end of the input it fails with unexpected EOF, as encoding/xml does
// (a name is never the last thing in well-formed XML).
func (s *scanner) readName() (name []byte, ok bool, err error) {
	start := s.pos
	for s.pos < len(s.data) {
		if c := s.data[s.pos]; c < utf8.RuneSelf && !isNameByte(c) {
			return s.data[start:s.pos], s.pos > start, nil
		}
		s.pos++
	}
	return nil, false, s.eof()
}

// isName checks a name's characters (see the package note on non-ASCII).
func isName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if i == 0 && (c >= '0' && c <= '9' || c == '.' || c == '-') {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		ok := unicode.IsLetter(r) || i > 0 && (unicode.IsDigit(r) || unicode.IsMark(r))
		if !ok {
			return false
		}
		i += n
	}
	return true
}

// name reads a name that must be there; what encoding/xml reports when it
// is missing depends on the caller (missing is returned).
func (s *scanner) name() (name []byte, missing bool, err error) {
	b, ok, err := s.readName()
	if err != nil || !ok {
		return nil, err == nil, err
	}
	if !isName(b) {
		return nil, false, s.errAt("invalid XML name: " + string(b))
	}
	return b, false, nil
}

// nsname reads a name and returns its local part: after a single colon
// with text on both sides, else the whole name; two colons make it
// missing.
func (s *scanner) nsname() (local []byte, missing bool, err error) {
	b, missing, err := s.name()
	if b == nil {
		return nil, missing, err
	}
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return b, false, nil
	}
	if bytes.IndexByte(b[i+1:], ':') >= 0 {
		return nil, true, nil
	}
	if i == 0 || i == len(b)-1 {
		return b, false, nil
	}
	return b[i+1:], false, nil
}

// mustName is nsname with encoding/xml's message for a missing name.
func (s *scanner) mustName(what string) ([]byte, error) {
	b, missing, err := s.nsname()
	if missing {
		return nil, s.errAt(what)
	}
	return b, err
}

// text reads character data (quote 0), an attribute value up to its
// closing quote (consumed), or a CDATA section's content up to "]]>"
// (consumed), appending it to dst with entities resolved (not in CDATA)
// and CR LF and CR read as LF. Plain runs are copied whole.
func (s *scanner) text(dst []byte, quote byte, cdata bool) ([]byte, error) {
	start := len(dst)
	data := s.data
	// "]]>" ends CDATA and is an error in character data; its brackets
	// must be raw bytes at or after low (the start, or the last entity).
	low := s.pos
	for {
		run := s.pos
		for s.pos < len(data) {
			c := data[s.pos]
			if c == '<' || c == '&' || c == '\r' || c == '>' || c == quote && quote != 0 {
				break
			}
			s.pos++
		}
		dst = append(dst, data[run:s.pos]...)
		if s.pos >= len(data) {
			if cdata {
				return nil, s.errAt("unexpected EOF in CDATA section")
			}
			break
		}
		c := data[s.pos]
		s.pos++
		switch {
		case c == '>':
			if quote == 0 && s.pos-3 >= low && data[s.pos-3] == ']' && data[s.pos-2] == ']' {
				if cdata {
					dst = dst[:len(dst)-2]
					return dst, s.checkChars(dst[start:])
				}
				return nil, s.errAt("unescaped ]]> not in CDATA section")
			}
			dst = append(dst, c)
		case c == '\r':
			dst = append(dst, '\n')
			if s.pos < len(data) && data[s.pos] == '\n' {
				s.pos++
			}
		case cdata:
			dst = append(dst, c) // '<' and '&' are plain in CDATA
		case c == '<':
			if quote != 0 {
				return nil, s.errAt("unescaped < inside quoted string")
			}
			s.pos-- // the next token's
			return dst, s.checkChars(dst[start:])
		case c == quote:
			return dst, s.checkChars(dst[start:])
		default: // '&'
			var err error
			if dst, err = s.entity(dst); err != nil {
				return nil, err
			}
			low = s.pos
		}
	}
	return dst, s.checkChars(dst[start:])
}

// entity resolves the reference whose '&' was just read, appending its
// text: &lt; &gt; &amp; &apos; &quot; or a character reference.
func (s *scanner) entity(dst []byte) ([]byte, error) {
	data := s.data
	amp := s.pos - 1
	if s.pos >= len(data) {
		return nil, s.eof()
	}
	var r rune
	have := false
	if data[s.pos] == '#' {
		s.pos++
		if s.pos >= len(data) {
			return nil, s.eof()
		}
		base := 10
		if data[s.pos] == 'x' {
			base = 16
			s.pos++
		}
		digits := s.pos
		for s.pos < len(data) {
			c := data[s.pos]
			if '0' <= c && c <= '9' || base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				s.pos++
				continue
			}
			break
		}
		if s.pos >= len(data) {
			return nil, s.eof()
		}
		if data[s.pos] == ';' {
			n, err := parseDigits(data[digits:s.pos], base)
			s.pos++
			if err == nil && n <= unicode.MaxRune {
				r, have = rune(n), true
			}
		}
	} else {
		name, _, err := s.readName()
		if err != nil {
			return nil, err
		}
		if data[s.pos] == ';' {
			s.pos++
			if isName(name) {
				switch string(name) {
				case "lt":
					r, have = '<', true
				case "gt":
					r, have = '>', true
				case "amp":
					r, have = '&', true
				case "apos":
					r, have = '\'', true
				case "quot":
					r, have = '"', true
				}
			}
		}
	}
	if !have {
		ent := string(data[amp:s.pos])
		if ent[len(ent)-1] != ';' {
			ent += " (no semicolon)"
		}
		return nil, s.errAt("invalid character entity " + ent)
	}
	return utf8.AppendRune(dst, r), nil
}

// checkChars fails on invalid UTF-8 and on characters outside XML's range.
func (s *scanner) checkChars(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < 0x20 {
			if c != '\t' && c != '\n' && c != '\r' {
				return s.errAt(fmt.Sprintf("illegal character code %U", rune(c)))
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return s.errAt("invalid UTF-8")
		}
		if r >= 0xD800 && r <= 0xDFFF || r == 0xFFFE || r == 0xFFFF {
			return s.errAt(fmt.Sprintf("illegal character code %U", r))
		}
		i += n
	}
	return nil
}

// parseDigits is strconv.ParseUint(string(b), base, 64) without the
// string: digits were checked by the caller; it fails on no digits and on
// overflow.
func parseDigits(b []byte, base int) (uint64, error) {
	if len(b) == 0 {
		return 0, strconv.ErrSyntax
	}
	var n uint64
	for _, c := range b {
		var d uint64
		switch {
		case c <= '9':
			d = uint64(c - '0')
		case c >= 'a':
			d = uint64(c-'a') + 10
		default:
			d = uint64(c-'A') + 10
		}
		if n > (1<<64-1-d)/uint64(base) {
			return 0, strconv.ErrRange
		}
		n = n*uint64(base) + d
	}
	return n, nil
}

// comment skips a comment whose "<!--" was read: up to the first "--",
// which must be followed by '>'.
func (s *scanner) comment() error {
	k := bytes.Index(s.data[s.pos:], []byte("--"))
	if k < 0 || s.pos+k+2 >= len(s.data) {
		s.pos = len(s.data)
		return s.eof()
	}
	p := s.pos + k + 2
	s.pos = p + 1
	if s.data[p] != '>' {
		return s.errAt(`invalid sequence "--" not allowed in comments`)
	}
	return nil
}

// directive skips a declaration such as <!DOCTYPE ...> whose "<!" and
// first byte were read, as encoding/xml does: quoted strings, nested
// declarations and comments inside.
func (s *scanner) directive() error {
	data := s.data
	var quote byte
	depth := 0
	for {
		if s.pos >= len(data) {
			return s.eof()
		}
		c := data[s.pos]
		s.pos++
		if quote == 0 && c == '>' && depth == 0 {
			return nil
		}
	handle:
		switch {
		case c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == '>':
			depth--
		case c == '<':
			for i := 0; i < 3; i++ {
				if s.pos >= len(data) {
					return s.eof()
				}
				c = data[s.pos]
				s.pos++
				if c != "!--"[i] {
					depth++
					goto handle
				}
			}
			k := bytes.Index(data[s.pos:], []byte("-->"))
			if k < 0 {
				s.pos = len(data)
				return s.eof()
			}
			s.pos += k + 3
		}
	}
}

// procInst skips a processing instruction whose "<?" was read. An XML
// declaration must say version 1.0, if anything, and UTF-8: the text was
// made UTF-8 before (these errors are not syntax errors, as in
// encoding/xml).
func (s *scanner) procInst() error {
	target, missing, err := s.name()
	if missing {
		return s.errAt("expected target name after <?")
	}
	if err != nil {
		return err
	}
	s.space()
	k := bytes.Index(s.data[s.pos:], []byte("?>"))
	if k < 0 {
		s.pos = len(s.data)
		return s.eof()
	}
	content := string(s.data[s.pos : s.pos+k])
	s.pos += k + 2
	if string(target) != "xml" {
		return nil
	}
	if ver := declParam("version", content); ver != "" && ver != "1.0" {
		return fmt.Errorf("xml: unsupported version %q; only version 1.0 is supported", ver)
	}
	if enc := declParam("encoding", content); enc != "" && !strings.EqualFold(enc, "utf-8") {
		return fmt.Errorf("xml: encoding %q declared but Decoder.CharsetReader is nil", enc)
	}
	return nil
}

// declParam returns the quoted value of param in an XML declaration's
// content, found as encoding/xml finds it: the first "param=" followed by
// a quote, up to the same quote.
func declParam(param, s string) string {
	param += "="
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || len(param)+k >= len(sub) {
			return ""
		}
		i += len(param) + k + 1
		if c := sub[len(param)+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}
