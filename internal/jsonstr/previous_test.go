package jsonstr

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf8"
)

// previous is Append as it was before the exact masks (one word re-read
// per escape), kept to fuzz the new code against and to benchmark both in
// the same run.
func previous(b []byte, s string) []byte {
	b = append(b, '"')
	o := len(b)
	if cap(b)-o < len(s)+slack {
		b = slices.Grow(b, len(s)+slack)
	}
	out := b[:cap(b)]
	for i := 0; i < len(s); {
		// Invariant: len(out)-o >= len(s)-i+slack.
		var x, m uint64
		n := 8
		if i+8 <= len(s) {
			x = previousLoad8(s, i)
			m = previousSpecial(x)
		} else {
			n = len(s) - i
			x = previousTail(s, i)
			m = previousSpecial(x) & (highs >> (uint(8-n) * 8))
		}
		binary.LittleEndian.PutUint64(out[o:o+8], x)
		if m == 0 {
			i += n
			o += n
			continue
		}
		k := bits.TrailingZeros64(m) >> 3
		i += k
		o += k
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				out[o], out[o+1] = '\\', c
				o += 2
			case c == '\n':
				out[o], out[o+1] = '\\', 'n'
				o += 2
			case c == '\r':
				out[o], out[o+1] = '\\', 'r'
				o += 2
			case c == '\t':
				out[o], out[o+1] = '\\', 't'
				o += 2
			case c < 0x20:
				o += copy(out[o:], []byte{'\\', 'u', '0', '0', hex[c>>4], hex[c&0xf]})
			default:
				// Flagged only by a borrow from a byte below it.
				out[o] = c
				o++
			}
			i++
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				o += copy(out[o:], `\ufffd`)
			case r == '\u2028' || r == '\u2029':
				// U+2028 and U+2029 break JavaScript consumers of NDJSON.
				o += copy(out[o:], []byte{'\\', 'u', '2', '0', '2', hex[r&0xf]})
			default:
				o += copy(out[o:], s[i:i+size])
			}
			i += size
		}
		if len(out)-o < len(s)-i+slack {
			out = slices.Grow(out[:o], len(s)-i+slack)
			out = out[:cap(out)]
		}
	}
	out = out[:o]
	return append(out, '"')
}

// previousSpecial returns a word whose byte k has its high bit set when byte k of
// x needs more than a copy (a control character, '"', '\\' or a byte of a
// multi-byte sequence), or when a lower byte did (a borrow carries upwards
// only, so the lowest set bit is always exact). Most values (ids, names,
// hashes, most of paths and command lines) are long runs of plain ASCII,
// which this skips 8 bytes per step.
func previousSpecial(x uint64) uint64 {
	// x itself: bytes >= 0x80. x - 0x20: bytes < 0x20 borrow into their
	// high bit. (x ^ c) - 1: a byte equal to c becomes 0xff. For bytes
	// below 0x80 no other byte value sets the high bit.
	return (x | (x - 0x20*ones) | ((x ^ '"'*ones) - ones) | ((x ^ '\\'*ones) - ones)) & highs
}

// previousLoad8 returns the 8 bytes of s at i, little-endian.
func previousLoad8(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// previousTail returns the last n < 8 bytes of s, from i on, little-endian in a
// word padded with zeros.
func previousTail(s string, i int) uint64 {
	n := len(s) - i
	if len(s) >= 8 {
		// The string's last word with the bytes before i shifted out.
		return previousLoad8(s, len(s)-8) >> (uint(8-n) * 8)
	}
	var x uint64
	for k := len(s) - 1; k >= i; k-- {
		x = x<<8 | uint64(s[k])
	}
	return x
}
