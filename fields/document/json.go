// Package document is the Go form of a procbeat document. document_gen.go is
// generated from the field catalog by tools/gendocument; this file holds the
// hand-written value types and JSON helpers it uses.
package document

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Long is a long field that may be absent; zero is a real value (pid 0,
// exit code 0), so presence is explicit.
type Long struct {
	Value int64
	Valid bool
}

// Ulong is an unsigned_long field that may be absent.
type Ulong struct {
	Value uint64
	Valid bool
}

// Double is a double field that may be absent.
type Double struct {
	Value float64
	Valid bool
}

// Bool is a boolean field that may be absent.
type Bool struct {
	Value bool
	Valid bool
}

// LongOf, UlongOf, DoubleOf and BoolOf build present values.
func LongOf(v int64) Long       { return Long{Value: v, Valid: true} }
func UlongOf(v uint64) Ulong    { return Ulong{Value: v, Valid: true} }
func DoubleOf(v float64) Double { return Double{Value: v, Valid: true} }
func BoolOf(v bool) Bool        { return Bool{Value: v, Valid: true} }

func (v Long) appendJSON(b []byte) []byte  { return strconv.AppendInt(b, v.Value, 10) }
func (v Ulong) appendJSON(b []byte) []byte { return strconv.AppendUint(b, v.Value, 10) }
func (v Bool) appendJSON(b []byte) []byte  { return strconv.AppendBool(b, v.Value) }
func (v Double) appendJSON(b []byte) []byte {
	return strconv.AppendFloat(b, v.Value, 'g', -1, 64)
}

// AppendJSON appends d as one JSON object (no trailing newline). Absent
// fields and empty objects are left out.
func (d *Document) AppendJSON(b []byte) []byte {
	b, ok := d.appendJSON(b)
	if !ok {
		return append(b, "{}"...)
	}
	return b
}

func appendKey(b []byte, n *int, key string) []byte {
	if *n > 0 {
		b = append(b, ',')
	}
	*n++
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// appendTime writes RFC 3339 with milliseconds in UTC, the form Defend uses.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	return append(b, '"')
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string, for encoders of other shapes
// (the CAR codec) that must escape exactly as documents do.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }

// AppendTime appends t as a JSON string in the documents' time format.
func AppendTime(b []byte, t time.Time) []byte { return appendTime(b, t) }

// appendString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD so
// that a broken value never breaks the bulk request around it.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 break JavaScript consumers of NDJSON.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
