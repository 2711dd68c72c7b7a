package image

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/internal/lower"
)

// lowerASCII is lower.Word's reference: byte by byte.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func FuzzKeyOf(f *testing.F) {
	f.Add("WIN-HOST", `C:\Windows\System32\CMD.EXE`)
	f.Add("", "")
	f.Add("h\x80Z@[`{", "\xff\xc3\x89AZaz")
	f.Fuzz(func(t *testing.T, host, path string) {
		// Every byte of a word is folded as the byte-wise reference folds it.
		var w [8]byte
		copy(w[:], path)
		got := lower.Word(binary.LittleEndian.Uint64(w[:]))
		want := binary.LittleEndian.Uint64([]byte(lowerASCII(string(w[:]))))
		if got != want {
			t.Fatalf("lower.Word(%q) = %#x, want %#x", w[:], got, want)
		}
		// Names that differ only in ASCII case share a key, so a lookup
		// finds what strings.EqualFold confirms.
		if keyOf(host, path) != keyOf(strings.ToUpper(host), lowerASCII(path)) && isASCII(host) {
			t.Fatalf("keyOf(%q, %q) differs from its case-folded form", host, path)
		}
		if keyOf(lowerASCII(host), strings.ToUpper(path)) != keyOf(host, path) && isASCII(path) {
			t.Fatalf("keyOf(%q, %q) differs from its case-folded form", host, path)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestKeyOfSeparatesHostFromPath(t *testing.T) {
	// The boundary between host and path counts: "ab"+"c" is not "a"+"bc",
	// and trailing zero bytes of a short word are not padding.
	pairs := [][4]string{
		{"ab", "c", "a", "bc"},
		{"host", "", "", "host"},
		{"h", "x", "h", "x\x00"},
		{"", "abcdefgh", "", "abcdefgh\x00"},
	}
	for _, p := range pairs {
		if keyOf(p[0], p[1]) == keyOf(p[2], p[3]) {
			t.Errorf("keyOf(%q, %q) == keyOf(%q, %q)", p[0], p[1], p[2], p[3])
		}
	}
}

func BenchmarkKeyOf(b *testing.B) {
	host, path := "WORKSTATION-07.corp.example.com", `C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`
	var h uint64
	for b.Loop() {
		h += keyOf(host, path)
	}
	_ = h
}
