// Package lower lower-cases text into buffers the caller owns, so that
// per-event code can lower-case without a string allocation each time.
package lower

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Append appends strings.ToLower(s) to dst: byte by byte for ASCII, where
// that is the same, and through strings.ToLower otherwise. When s is ASCII
// and dst has room for it, nothing is allocated.
func Append(dst []byte, s string) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(s))[:n+len(s)]
	out := dst[n:]
	var seen byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		seen |= c
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	if seen >= utf8.RuneSelf {
		return append(dst[:n], strings.ToLower(s)...)
	}
	return dst
}
