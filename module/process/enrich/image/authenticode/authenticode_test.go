package authenticode

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// minimalPE is the smallest header ParseLayout accepts: a DOS header
// pointing at a PE32+ optional header with 16 data directories.
func minimalPE(certStart, certSize uint32, tail int) []byte {
	b := make([]byte, 0x200+tail)
	b[0], b[1] = 'M', 'Z'
	b[0x3c] = 0x80
	copy(b[0x80:], "PE\x00\x00")
	b[0x80+20] = 240 // SizeOfOptionalHeader
	opt := 0x80 + 24
	b[opt], b[opt+1] = 0x0b, 0x02
	b[opt+108] = 16 // NumberOfRvaAndSizes
	cert := opt + 112 + 32
	put := func(off int, v uint32) {
		b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	put(cert, certStart)
	put(cert+4, certSize)
	return b
}

func TestLayoutDigestSkipsSignatureParts(t *testing.T) {
	img := minimalPE(0x200, 16, 16)
	l, err := ParseLayout(img)
	if err != nil {
		t.Fatal(err)
	}
	if l.CertStart != 0x200 || l.CertEnd != 0x210 || l.ChecksumOffset != 0x98+64 {
		t.Fatalf("layout %+v", l)
	}
	d1 := ImageDigests(img, l)
	// Changing the checksum, the table entry's ... or the table itself
	// leaves the digest alone; changing code does not.
	mod := append([]byte(nil), img...)
	mod[l.ChecksumOffset] ^= 1
	mod[0x205] ^= 1
	if d2 := ImageDigests(mod, l); !bytes.Equal(d1.SHA256, d2.SHA256) {
		t.Error("digest covers the checksum or the certificate table")
	}
	mod[0x100] ^= 1
	if d2 := ImageDigests(mod, l); bytes.Equal(d1.SHA256, d2.SHA256) {
		t.Error("digest misses the headers")
	}
	h := sha256.New()
	h.Write(img[:l.ChecksumOffset])
	h.Write(img[l.ChecksumOffset+4 : l.CertDirOffset])
	h.Write(img[l.CertDirOffset+8 : 0x200])
	if !bytes.Equal(h.Sum(nil), d1.SHA256) {
		t.Error("digest differs from the specification's ranges")
	}
}

func TestLayoutRejects(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":                 nil,
		"not MZ":                make([]byte, 0x200),
		"cert outside":          minimalPE(0x200, 0x1000, 0),
		"cert overlaps headers": minimalPE(0x10, 8, 0),
	} {
		if _, err := ParseLayout(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzVerifyEmbedded(f *testing.F) {
	f.Add(minimalPE(0x200, 16, 16))
	f.Add(minimalPE(0, 0, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLayout(data)
		if err != nil {
			return
		}
		d := ImageDigests(data, l)
		sigs, _ := VerifyEmbedded(data, l, d, nil)
		for _, s := range sigs {
			if s.Trusted {
				t.Fatal("fuzzed image trusted without roots")
			}
		}
	})
}
