// Package jsonstr appends Go strings as JSON strings, without reflection,
// for every encoder on procbeat's hot path (documents, bulk action lines,
// evtx dump).
package jsonstr

import (
	"math/bits"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// Word-at-a-time constants: a byte repeated over 64 bits.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special returns a word whose byte k has its high bit set when byte k of
// the 8 bytes at s[i:] needs more than a copy (a control character, '"',
// '\\' or a byte of a multi-byte sequence), or when a lower byte did (a
// borrow carries upwards only, so the lowest set bit is always exact).
// Most values (ids, names, hashes, most of paths and command lines) are
// long runs of plain ASCII, which this skips 8 bytes per step.
func special(s string, i int) uint64 {
	_ = s[i+7]
	x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
	// x itself: bytes >= 0x80. x - 0x20: bytes < 0x20 borrow into their
	// high bit. (x ^ c) - 1: a byte equal to c becomes 0xff. For bytes
	// below 0x80 no other byte value sets the high bit.
	return (x | (x - 0x20*ones) | ((x ^ '"'*ones) - ones) | ((x ^ '\\'*ones) - ones)) & highs
}

// Append writes s as a JSON string. Invalid UTF-8 becomes U+FFFD so
// that a broken value never breaks the bulk request around it. Plain runs
// are copied whole, never byte by byte.
func Append(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) {
			if m := special(s, i); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
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
