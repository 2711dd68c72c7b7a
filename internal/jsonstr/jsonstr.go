// Package jsonstr appends Go strings as JSON strings, without reflection,
// for every encoder on procbeat's hot path (documents, bulk action lines,
// evtx dump).
package jsonstr

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// Word-at-a-time constants: a byte repeated over 64 bits.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special returns a word whose byte k has its high bit set when byte k of
// x needs more than a copy (a control character, '"', '\\' or a byte of a
// multi-byte sequence), or when a lower byte did (a borrow carries upwards
// only, so the lowest set bit is always exact). Most values (ids, names,
// hashes, most of paths and command lines) are long runs of plain ASCII,
// which this skips 8 bytes per step.
func special(x uint64) uint64 {
	// x itself: bytes >= 0x80. (x ^ 0x02) - 0x21: flipping bit 1 turns
	// '"' (0x22) into 0x20 and keeps bytes < 0x20 below 0x20, while
	// every other byte below 0x80 stays at 0x21 or above, so one
	// subtraction borrows into the high bit of control characters and
	// quotes both. (x ^ '\\') - 1: a backslash becomes 0xff. For bytes
	// below 0x80 no other byte value sets the high bit.
	return (x | ((x ^ 0x02*ones) - 0x21*ones) | ((x ^ '\\'*ones) - ones)) & highs
}

// load8 returns the 8 bytes of s at i, little-endian.
func load8(s string, i int) uint64 {
	// Slicing first leaves one bounds check before the one load the
	// compiler merges the bytes into; indexing s at i+k would check each.
	w := s[i : i+8]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
}

// load4 returns the 4 bytes of s at i, little-endian.
func load4(s string, i int) uint64 {
	w := s[i : i+4]
	return uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24
}

// short returns the bytes of s, shorter than 8, little-endian in a word
// padded with zeros: without a loop, from two overlapping loads of 4 or 2
// bytes (the bytes both hold are the same, so or-ing them is exact).
func short(s string) uint64 {
	n := len(s)
	switch {
	case n >= 4:
		return load4(s, 0) | load4(s, n-4)<<(uint(n-4)*8)
	case n >= 2:
		lo, hi := s[:2], s[n-2:]
		return uint64(lo[0]) | uint64(lo[1])<<8 | (uint64(hi[0])|uint64(hi[1])<<8)<<(uint(n-2)*8)
	case n == 1:
		return uint64(s[0])
	}
	return 0
}

// shortMax is the longest string Append tests and stores without its loop.
const shortMax = 40

// slack is the room kept past the output written so far beyond what the
// rest of the input needs as plain bytes: a whole word is stored even when
// fewer bytes count, and one escape adds at most 5 bytes before the room is
// checked again.
const slack = 16

// Append writes s as a JSON string. Invalid UTF-8 becomes U+FFFD so
// that a broken value never breaks the bulk request around it.
func Append(b []byte, s string) []byte {
	return AppendAfterQuote(append(b, '"'), s)
}

// AppendAfterQuote is Append for a b that already ends with the opening
// quote: generated encoders write it with the key before it, as one
// constant.
//
// Plain bytes are stored a word at a time straight into b, and an escape
// is written in place, so a Windows path or command line, with a backslash
// every few bytes, never leaves the word loop for a copy call. Whole words
// with nothing to escape, the common case, take an inner loop of a load, a
// test and a store.
func AppendAfterQuote(b []byte, s string) []byte {
	o := len(b)
	// Strings of up to 40 bytes are four in five of a document's (names,
	// ids, GUIDs, hashes), and most have nothing to escape: their words
	// (the last one overlapping the one before) are tested and stored
	// without the loop.
	if n := len(s); n <= shortMax && cap(b)-o >= shortMax+slack {
		out := b[:o+shortMax+slack]
		switch {
		case n > 16:
			x0, x1, xl := load8(s, 0), load8(s, 8), load8(s, n-8)
			m := special(x0) | special(x1) | special(xl)
			var x2, x3 uint64
			if n > 24 {
				x2 = load8(s, 16)
				m |= special(x2)
			}
			if n > 32 {
				x3 = load8(s, 24)
				m |= special(x3)
			}
			if m == 0 {
				binary.LittleEndian.PutUint64(out[o:o+8], x0)
				binary.LittleEndian.PutUint64(out[o+8:o+16], x1)
				binary.LittleEndian.PutUint64(out[o+16:o+24], x2)
				binary.LittleEndian.PutUint64(out[o+24:o+32], x3)
				// Last, over what the zero words of a shorter string
				// wrote past its end.
				binary.LittleEndian.PutUint64(out[o+n-8:o+n], xl)
				out[o+n] = '"'
				return out[:o+n+1]
			}
		case n >= 8:
			x, y := load8(s, 0), load8(s, n-8)
			if special(x)|special(y) == 0 {
				binary.LittleEndian.PutUint64(out[o:o+8], x)
				binary.LittleEndian.PutUint64(out[o+n-8:o+n], y)
				out[o+n] = '"'
				return out[:o+n+1]
			}
		case n >= 4:
			x, y := load4(s, 0), load4(s, n-4)
			if special(x|y<<32) == 0 {
				binary.LittleEndian.PutUint32(out[o:o+4], uint32(x))
				binary.LittleEndian.PutUint32(out[o+n-4:o+n], uint32(y))
				out[o+n] = '"'
				return out[:o+n+1]
			}
		}
	}
	if cap(b)-o < len(s)+slack {
		b = slices.Grow(b, len(s)+slack)
	}
	out := b[:cap(b)]
	i := 0
	for {
		// Invariant: len(out)-o >= len(s)-i+slack.
		var m uint64
		for i+8 <= len(s) {
			x := load8(s, i)
			binary.LittleEndian.PutUint64(out[o:o+8], x)
			if m = special(x); m != 0 {
				break
			}
			i += 8
			o += 8
		}
		if m == 0 {
			// The last n < 8 bytes.
			n := len(s) - i
			if n == 0 {
				break
			}
			var x uint64
			if len(s) >= 8 {
				// The string's last word with the bytes before i
				// shifted out.
				x = load8(s, len(s)-8) >> (uint(8-n) * 8)
			} else {
				x = short(s[i:])
			}
			binary.LittleEndian.PutUint64(out[o:o+8], x)
			if m = special(x) & (highs >> (uint(8-n) * 8)); m == 0 {
				o += n
				break
			}
		}
		// The lowest flag is exact (see special): the bytes before it are
		// plain and already in out.
		k := bits.TrailingZeros64(m) >> 3
		i += k
		o += k
		if c := s[i]; c == '"' || c == '\\' {
			out[o], out[o+1] = '\\', c
			o += 2
			i++
		} else {
			o, i = appendHard(out, o, s, i)
		}
		if len(out)-o < len(s)-i+slack {
			out = slices.Grow(out[:o], len(s)-i+slack)
			out = out[:cap(out)]
		}
	}
	// The room left always holds the closing quote.
	out[o] = '"'
	return out[:o+1]
}

// appendHard writes the byte or rune at s[i], flagged by special but
// neither a quote nor a backslash, at out[o:], which has room for 6 bytes,
// and returns the new o and i. Control characters and non-ASCII text are
// rare in documents: this is out of the word loop's way.
func appendHard(out []byte, o int, s string, i int) (int, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		switch {
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
		return o, i + 1
	}
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
	return o, i + size
}
