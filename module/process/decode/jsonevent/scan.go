package jsonevent

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON scanner that flattens one object into (path, value) pairs
// held in two reusable byte buffers: no map per event, no interface values,
// and the values of a record end up in one string.

type kind uint8

const (
	kString kind = iota
	kNumber
	kBool
	kNull
	kArray // raw JSON text of an array
)

type field struct {
	ks, ke int32 // path in keys, segments joined with '.'
	vs, ve int32 // value in vals
	kind   kind
	depth  uint8 // 0 for top-level keys
	// pair marks a Name/Value pair of a top-level Data array
	// (dataPairs): its key is the Name.
	pair bool
}

type scanner struct {
	data     []byte
	pos      int
	keys     []byte // scratch: the path of the key being read
	keyStore []byte // stable copies of the paths of stored fields
	vals     []byte
	fields   []field
	// pairs says the record had a top-level Data array of Name/Value
	// pairs (dataPairs), the form of procbeat's evtx dump.
	pairs bool
}

const maxDepth = 16

// SyntaxError is a JSON syntax problem at a byte offset within the record,
// while reading the value of Path (dotted, empty at the top level).
type SyntaxError struct {
	Offset int
	Path   string
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("JSON syntax error at byte %d: %s", e.Offset, e.Msg)
}

func (s *scanner) fail(msg string) error {
	return &SyntaxError{Offset: s.pos, Path: string(s.keys), Msg: msg}
}

func (s *scanner) reset(data []byte) {
	s.data, s.pos = data, 0
	s.keys, s.keyStore, s.vals, s.fields = s.keys[:0], s.keyStore[:0], s.vals[:0], s.fields[:0]
	s.pairs = false
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// parse flattens the top-level object.
func (s *scanner) parse() error {
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != '{' {
		return errNotObject
	}
	if err := s.object(0, 0); err != nil {
		return err
	}
	s.ws()
	if s.pos != len(s.data) {
		return s.fail("data after the object")
	}
	return nil
}

// object reads an object whose path prefix is keys[:prefix].
func (s *scanner) object(prefix int, depth int) error {
	if depth >= maxDepth {
		return s.fail("objects nested too deeply")
	}
	s.pos++ // '{'
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.fail("expected a key")
		}
		s.keys = s.keys[:prefix]
		if prefix > 0 {
			s.keys = append(s.keys, '.')
		}
		var err error
		if s.keys, err = s.str(s.keys); err != nil {
			return err
		}
		ks, ke := int32(0), int32(len(s.keys))
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.fail("expected ':'")
		}
		s.pos++
		s.ws()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end")
		}
		f := field{ks: ks, ke: ke, depth: uint8(depth)}
		switch c := s.data[s.pos]; {
		case c == '{':
			// Keep the key bytes for the children; a child path reuses
			// s.keys, so remember this object's path as the new prefix.
			if err := s.object(int(ke), depth+1); err != nil {
				return err
			}
			s.keys = s.keys[:prefix]
			goto sep
		case c == '[':
			if depth == 0 && string(s.keys) == "Data" && s.dataPairs() {
				s.keys = s.keys[:prefix]
				goto sep
			}
			start := s.pos
			if err := s.skipArray(); err != nil {
				return err
			}
			f.vs = int32(len(s.vals))
			s.vals = append(s.vals, s.data[start:s.pos]...)
			f.kind = kArray
			f.ve = int32(len(s.vals))
		case c == '"':
			f.vs = int32(len(s.vals))
			if s.vals, err = s.str(s.vals); err != nil {
				return err
			}
			f.kind, f.ve = kString, int32(len(s.vals))
		default:
			if err := s.literal(&f); err != nil {
				return err
			}
		}
		s.addField(f)
		s.keys = s.keys[:prefix]
	sep:
		s.ws()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

// literal reads the number, boolean or null at s.pos into vals as f's
// value.
func (s *scanner) literal(f *field) error {
	f.vs = int32(len(s.vals))
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			break
		}
		s.pos++
	}
	lit := s.data[start:s.pos]
	switch {
	case string(lit) == "null":
		f.kind = kNull
	case string(lit) == "true" || string(lit) == "false":
		f.kind = kBool
	case isNumber(lit):
		f.kind = kNumber
	default:
		s.pos = start
		return s.fail("invalid value")
	}
	if f.kind != kNull {
		s.vals = append(s.vals, lit...)
	}
	f.ve = int32(len(s.vals))
	return nil
}

// dataPairs reads the top-level "Data" array at s.pos when it is what
// procbeat's evtx dump writes there, an array of {"Name": string, "Value":
// scalar} objects: each pair becomes a field named by its Name (pair set,
// depth 1), in order, and s.pairs is set. For an array of any other shape
// (another key, a key twice or missing, a nested value, a syntax error)
// it stores nothing, leaves s.pos where it was and returns false: the
// array is then read as an opaque value, as any other array is. Reading
// the pairs in the one pass over the record keeps the dump's event data
// from being parsed twice.
func (s *scanner) dataPairs() bool {
	start, nf, nks, nv := s.pos, len(s.fields), len(s.keyStore), len(s.vals)
	if s.pairList() {
		s.pairs = true
		return true
	}
	s.pos, s.fields, s.keyStore, s.vals = start, s.fields[:nf], s.keyStore[:nks], s.vals[:nv]
	s.keys = append(s.keys[:0], "Data"...)
	return false
}

func (s *scanner) pairList() bool {
	s.pos++ // '['
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return true
	}
	for {
		s.ws()
		if !s.pair() {
			return false
		}
		if more, ok := s.sep(']'); !more {
			return ok
		}
	}
}

// sep reads the white space and the separator after a value in an array
// or object that end closes: more is true after a comma, false after
// end; ok is false for anything else.
func (s *scanner) sep(end byte) (more, ok bool) {
	s.ws()
	if s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ',':
			s.pos++
			return true, true
		case end:
			s.pos++
			return false, true
		}
	}
	return false, false
}

// pair reads one {"Name":..., "Value":...} object of a Data array, its
// keys in either order and spelt without escapes (as the dump writes
// them). The name goes to s.keys, whose "Data" the field's key skips.
func (s *scanner) pair() bool {
	if s.pos >= len(s.data) || s.data[s.pos] != '{' {
		return false
	}
	s.pos++
	f := field{depth: 1, pair: true}
	var haveName, haveValue bool
	for {
		s.ws()
		rest := s.data[s.pos:]
		isName := hasPrefix(rest, `"Name"`)
		switch {
		case isName && !haveName:
			s.pos += len(`"Name"`)
		case hasPrefix(rest, `"Value"`) && !haveValue:
			s.pos += len(`"Value"`)
		default:
			return false
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return false
		}
		s.pos++
		s.ws()
		if s.pos >= len(s.data) {
			return false
		}
		var err error
		switch c := s.data[s.pos]; {
		case isName:
			if c != '"' {
				return false
			}
			s.keys = s.keys[:len("Data")]
			if s.keys, err = s.str(s.keys); err != nil {
				return false
			}
			f.ks, f.ke, haveName = int32(len("Data")), int32(len(s.keys)), true
		case c == '{' || c == '[':
			return false
		case c == '"':
			f.vs = int32(len(s.vals))
			if s.vals, err = s.str(s.vals); err != nil {
				return false
			}
			f.kind, f.ve, haveValue = kString, int32(len(s.vals)), true
		default:
			if s.literal(&f) != nil {
				return false
			}
			haveValue = true
		}
		if more, ok := s.sep('}'); !more {
			if !ok || !haveName || !haveValue {
				return false
			}
			s.addField(f)
			return true
		}
	}
}

// addField stores f with its own copy of the key, because s.keys is a
// scratch path buffer that the next key overwrites.
func (s *scanner) addField(f field) {
	n := int32(len(s.keyStore))
	s.keyStore = append(s.keyStore, s.keys[f.ks:f.ke]...)
	f.ks, f.ke = n, int32(len(s.keyStore))
	s.fields = append(s.fields, f)
}

func isNumber(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	i := 0
	if b[0] == '-' {
		i++
	}
	digits := false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
		default:
			return false
		}
	}
	return digits
}

// nesting follows JSON strings and bracket depth byte by byte, to skip a
// value without parsing it (skipArray, the framer).
type nesting struct {
	depth      int
	inStr, esc bool
}

// step returns the state after byte c.
func (n nesting) step(c byte) nesting {
	if n.inStr {
		switch {
		case n.esc:
			n.esc = false
		case c == '\\':
			n.esc = true
		case c == '"':
			n.inStr = false
		}
		return n
	}
	switch c {
	case '"':
		n.inStr = true
	case '[', '{':
		n.depth++
	case ']', '}':
		n.depth--
	}
	return n
}

func (s *scanner) skipArray() error {
	var n nesting
	for ; s.pos < len(s.data); s.pos++ {
		c := s.data[s.pos]
		if n = n.step(c); n.depth == 0 && !n.inStr && (c == ']' || c == '}') {
			s.pos++
			return nil
		}
	}
	return s.fail("unterminated array")
}

var errBadEscape = errors.New("invalid escape")

// str decodes the JSON string at s.pos and appends it to dst.
func (s *scanner) str(dst []byte) ([]byte, error) {
	s.pos++ // opening quote
	for {
		// Copy the run without escapes in one go.
		start := s.pos
		for s.pos < len(s.data) && s.data[s.pos] != '"' && s.data[s.pos] != '\\' {
			s.pos++
		}
		dst = append(dst, s.data[start:s.pos]...)
		if s.pos >= len(s.data) {
			return dst, s.fail("unterminated string")
		}
		if s.data[s.pos] == '"' {
			s.pos++
			return dst, nil
		}
		// Backslash escape.
		if s.pos+1 >= len(s.data) {
			return dst, s.fail("unterminated string")
		}
		e := s.data[s.pos+1]
		s.pos += 2
		switch e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return dst, s.fail("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
					save := s.pos
					s.pos += 2
					if lo, ok := s.hex4(); ok && lo >= 0xDC00 && lo <= 0xDFFF && r < 0xDC00 {
						r2 = utf16.DecodeRune(r, lo)
					} else {
						s.pos = save
					}
				}
				r = r2
			}
			dst = utf8.AppendRune(dst, r)
		default:
			s.pos -= 2
			return dst, s.fail(errBadEscape.Error())
		}
	}
}

func (s *scanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.data) {
		return 0, false
	}
	var r rune
	for _, c := range s.data[s.pos : s.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.pos += 4
	return r, true
}
