package evtx

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/procbeat/procbeat/internal/utf16le"
)

// refUTF16 is the plain definition appendUTF16 must match: decode up to the
// first NUL, unpaired surrogates as U+FFFD.
func refUTF16(b []byte) []byte {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	for i, c := range u {
		if c == 0 {
			u = u[:i]
			break
		}
	}
	var out []byte
	for _, r := range utf16.Decode(u) {
		out = utf8.AppendRune(out, r)
	}
	return out
}

// randUTF16 returns up to max-1 random UTF-16 units, one in every odds
// from alphabet and the others printable ASCII, and now and then an odd
// last byte (which decoding ignores).
func randUTF16(rng *rand.Rand, alphabet []uint16, max, odds int) []byte {
	k := rng.IntN(max)
	b := make([]byte, 0, 2*k+1)
	for i := 0; i < k; i++ {
		var c uint16
		if rng.IntN(odds) == 0 {
			c = alphabet[rng.IntN(len(alphabet))]
		} else {
			c = uint16('!' + rng.IntN(90))
		}
		b = append(b, byte(c), byte(c>>8))
	}
	if rng.IntN(3) == 0 {
		b = append(b, 'x')
	}
	return b
}

func TestAppendUTF16MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Characters chosen to hit the ASCII fast path, its exits (NUL,
	// non-ASCII, a high byte) and surrogates, at every alignment.
	alphabet := []uint16{'a', 'Z', '0', ' ', 0x7f, 0, 0x80, 0xe9, 0x100, 0x7f00, 0x4e2d, 0xd83d, 0xde00, 0xdc00, 0xfffd}
	for n := 0; n < 3000; n++ {
		b := randUTF16(rng, alphabet, 24, 4)
		prefix := []byte("pre")
		got := utf16le.Append(append([]byte(nil), prefix...), b)
		want := append(append([]byte(nil), prefix...), refUTF16(b[:len(b)/2*2])...)
		if !bytes.Equal(got, want) {
			t.Fatalf("utf16le.Append(% x) = %q, want %q", b, got, want)
		}
	}
}

// benchUTF16 is typical process event text: paths, command lines, hashes.
func benchUTF16() [][]byte {
	var in [][]byte
	for _, s := range []string{
		`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		`"C:\Windows\system32\cmd.exe" /c whoami /all`,
		`SHA1=6CBCE4A295C163791B60FC23D285E6D84F28EE4C,MD5=F4F684066175B77E0C3A000549D2922C`,
		`{A98268C1-9C2E-5D2D-0000-00102E7B0A00}`,
		`NT AUTHORITY\SYSTEM`,
		`-`,
		`Medium`,
	} {
		in = append(in, toUTF16(s)) // values carry no NUL, as in real records
	}
	return in
}

// BenchmarkAppendUTF16 converts typical text (utf8), and converts and
// escapes it for JSON in one pass as evtx dump --format json does (json).
func BenchmarkAppendUTF16(b *testing.B) {
	in := benchUTF16()
	for _, json := range []bool{false, true} {
		name := "utf8"
		if json {
			name = "json"
		}
		b.Run(name, func(b *testing.B) {
			var dst []byte
			for b.Loop() {
				dst = dst[:0]
				for _, s := range in {
					if json {
						dst, _ = appendUTF16JSON(dst, s)
					} else {
						dst = utf16le.Append(dst, s)
					}
				}
			}
		})
	}
}
