package logging

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"go.uber.org/zap/zapcore"

	"github.com/procbeat/procbeat/internal/redact"
)

// Clean makes text fit for a log line or a terminal: URL passwords hidden
// (redact.URLs) and input turned harmless (Escape).
func Clean(s string) string { return Escape(redact.URLs(s)) }

// Escape returns s with everything that could forge a log line or drive a
// terminal written as a Go escape: control characters (new lines, carriage
// returns, ESC and so ANSI sequences, C1 controls), DEL, invalid UTF-8 and
// the Unicode controls that reorder text (bidirectional overrides). Text
// without any is returned as it is, without allocating.
func Escape(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&15, 16))
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r) // '\n', '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || unsafeRune(r) {
			return i
		}
		i += size
	}
	return -1
}

func unsafeRune(r rune) bool {
	switch {
	case r < 0x20 && r != '\t', r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// cleanCore applies Clean to every message and string or error field, so
// that no caller can forget: file names and values from input reach the
// log through many paths.
type cleanCore struct{ zapcore.Core }

func (c cleanCore) With(fields []zapcore.Field) zapcore.Core {
	return cleanCore{c.Core.With(cleanFields(fields))}
}

func (c cleanCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c cleanCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	e.Message = Clean(e.Message)
	return c.Core.Write(e, cleanFields(fields))
}

// cleanFields returns fields with string and error values cleaned, copying
// only when one changes.
func cleanFields(fields []zapcore.Field) []zapcore.Field {
	var out []zapcore.Field
	for i, f := range fields {
		var s string
		switch f.Type {
		case zapcore.StringType:
			s = f.String
		case zapcore.ErrorType:
			if err, ok := f.Interface.(error); ok && err != nil {
				s = err.Error()
			}
		default:
			continue
		}
		c := Clean(s)
		if c == s && f.Type == zapcore.StringType {
			continue
		}
		if out == nil {
			out = append([]zapcore.Field(nil), fields...)
		}
		out[i] = zapcore.Field{Key: f.Key, Type: zapcore.StringType, String: c}
	}
	if out == nil {
		return fields
	}
	return out
}
