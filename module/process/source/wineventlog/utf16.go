package wineventlog

import (
	"unicode/utf16"
	"unicode/utf8"
)

// appendUTF16LE appends the UTF-16LE text in src, up to its first NUL
// character (EvtRender's terminator) or its end, to dst as UTF-8. Unpaired
// surrogates become U+FFFD. It allocates only when dst must grow.
func appendUTF16LE(dst, src []byte) []byte {
	n := len(src) &^ 1
	for i := 0; i < n; i += 2 {
		c := rune(src[i]) | rune(src[i+1])<<8
		switch {
		case c == 0:
			return dst
		case c < utf8.RuneSelf:
			dst = append(dst, byte(c))
			continue
		case utf16.IsSurrogate(c):
			r := utf8.RuneError
			if c < 0xDC00 && i+3 < n {
				c2 := rune(src[i+2]) | rune(src[i+3])<<8
				if c2 >= 0xDC00 && c2 <= 0xDFFF {
					r = utf16.DecodeRune(c, c2)
					i += 2
				}
			}
			c = r
		}
		dst = utf8.AppendRune(dst, c)
	}
	return dst
}
