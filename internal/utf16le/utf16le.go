// Package utf16le converts the little-endian UTF-16 text of Windows (EVTX
// records, rendered event XML) to UTF-8, for the EVTX reader and the live
// event log alike.
package utf16le

import (
	"encoding/binary"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// Append appends the UTF-8 form of little-endian UTF-16 text, stopping
// at the first NUL (Windows strings are NUL-terminated; padding follows).
// Unpaired surrogates become U+FFFD, like Windows' own conversion.
func Append(dst []byte, b []byte) []byte {
	// Most event text is ASCII: convert it eight, then four, then one
	// character per step into room reserved up front, and leave what
	// follows the first non-ASCII character or NUL to the general loop.
	n := len(b) / 2
	l := len(dst)
	dst = slices.Grow(dst, n)[:l+n]
	out := dst[l:]
	// Four characters in a uint64: ASCII when the nonASCII bits are clear;
	// adding carry to ASCII lanes sets each lane's top bit unless it is NUL.
	const (
		nonASCII = 0xff80ff80ff80ff80
		carry    = 0x7fff7fff7fff7fff
		top      = 0x8000800080008000
	)
	i := 0
	for ; i+8 <= n; i += 8 {
		v := binary.LittleEndian.Uint64(b[2*i:])
		w := binary.LittleEndian.Uint64(b[2*i+8:])
		if (v|w)&nonASCII != 0 || (v+carry)&(w+carry)&top != top {
			break
		}
		o := out[i : i+8 : i+8]
		o[0], o[1], o[2], o[3] = byte(v), byte(v>>16), byte(v>>32), byte(v>>48)
		o[4], o[5], o[6], o[7] = byte(w), byte(w>>16), byte(w>>32), byte(w>>48)
	}
	for ; i+4 <= n; i += 4 {
		v := binary.LittleEndian.Uint64(b[2*i:])
		if v&nonASCII != 0 || (v+carry)&top != top {
			break
		}
		o := out[i : i+4 : i+4]
		o[0], o[1], o[2], o[3] = byte(v), byte(v>>16), byte(v>>32), byte(v>>48)
	}
	for ; i < n; i++ {
		c0, c1 := b[2*i], b[2*i+1]
		if c1 != 0 || c0 == 0 || c0 >= 0x80 {
			break
		}
		out[i] = c0
	}
	dst = dst[:l+i]
	if i == n {
		return dst
	}
	return appendSlow(dst, b[2*i:])
}

// appendSlow is Append's general loop, one character at a time.
func appendSlow(dst []byte, b []byte) []byte {
	n := len(b) / 2
	for i := 0; i < n; i++ {
		u := uint16(b[2*i]) | uint16(b[2*i+1])<<8
		switch {
		case u == 0:
			return dst
		case u < 0x80:
			dst = append(dst, byte(u))
		case u < 0xd800 || u >= 0xe000:
			dst = utf8.AppendRune(dst, rune(u))
		case u < 0xdc00 && i+1 < n:
			u2 := uint16(b[2*i+2]) | uint16(b[2*i+3])<<8
			if u2 >= 0xdc00 && u2 < 0xe000 {
				dst = utf8.AppendRune(dst, utf16.DecodeRune(rune(u), rune(u2)))
				i++
			} else {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			}
		default:
			dst = utf8.AppendRune(dst, utf8.RuneError)
		}
	}
	return dst
}
