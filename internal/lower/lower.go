// Package lower lower-cases text into buffers the caller owns, so that
// per-event code can lower-case without a string allocation each time.
package lower

import (
	"encoding/binary"
	"slices"
	"strings"
	"unicode/utf8"
)

// SWAR ("SIMD within a register") constants: eight bytes at a time.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// Append appends strings.ToLower(s) to dst: eight bytes at a time for
// ASCII, where that is the same (hashes and ids are most of what is
// lower-cased, and long), and through strings.ToLower otherwise. When s is
// ASCII and dst has room for it, nothing is allocated.
func Append(dst []byte, s string) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(s))[:n+len(s)]
	out := dst[n:]
	var seen uint64 // the bytes or-ed: a high bit means non-ASCII
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := load64(s[i:])
		seen |= w
		binary.LittleEndian.PutUint64(out[i:], Word(w))
	}
	for ; i < len(s); i++ {
		c := s[i]
		seen |= uint64(c)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	if seen&highs != 0 {
		return append(dst[:n], strings.ToLower(s)...)
	}
	return dst
}

// IsUpper reports whether s is ASCII without a lower-case letter, so that
// strings.ToUpper(s) is s: eight bytes at a time, for the GUIDs checked
// per event (they are logged in upper case).
func IsUpper(s string) bool {
	var seen, lower uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := load64(s[i:])
		seen |= w
		lower |= lowerBits(w)
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('a' <= c && c <= 'z') {
			return false
		}
	}
	return (seen|lower)&highs == 0
}

// IsASCII reports whether s is all ASCII (then Append and strings.ToLower
// map it byte for byte), eight bytes at a time.
func IsASCII(s string) bool {
	var seen uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		seen |= load64(s[i:])
	}
	for ; i < len(s); i++ {
		seen |= uint64(s[i])
	}
	return seen&highs == 0
}

// load64 reads s[0:8] as a little-endian word (one load: the compiler
// merges the byte reads).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Word lowers the ASCII upper-case letters among the eight bytes of w
// and leaves every other byte (non-ASCII ones included) as it is.
func Word(w uint64) uint64 { return w | upperBits(w)>>2 } // 0x80 >> 2 is 'a' - 'A'

// upperBits has the high bit of each byte of w that is an ASCII upper-case
// letter set, and no other bit. Bytes are taken without their high bit
// (adding to seven bits never carries into the next byte), then the high
// bit of w masks non-ASCII bytes out.
func upperBits(w uint64) uint64 {
	h := w &^ highs
	geA := h + (0x80-'A')*ones   // high bit: byte >= 'A'
	gtZ := h + (0x80-'Z'-1)*ones // high bit: byte > 'Z'
	return geA &^ gtZ &^ w & highs
}

// lowerBits is upperBits for ASCII lower-case letters.
func lowerBits(w uint64) uint64 {
	h := w &^ highs
	gea := h + (0x80-'a')*ones
	gtz := h + (0x80-'z'-1)*ones
	return gea &^ gtz &^ w & highs
}
