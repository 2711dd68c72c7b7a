// Package lower lower-cases text into buffers the caller owns, so that
// per-event code can lower-case without a string allocation each time.
package lower

import (
	"strings"
	"unicode/utf8"
)

// Append appends strings.ToLower(s) to dst: byte by byte for ASCII, where
// that is the same, and through strings.ToLower otherwise.
func Append(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(dst, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
