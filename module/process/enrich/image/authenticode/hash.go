// Package authenticode verifies Authenticode signatures of PE images in pure
// Go: the image digest (the "authentihash"), the PKCS#7 signature over it and
// the certificate chain against roots the caller gives. It also checks the
// signers of other PKCS#7 SignedData (catalog files) the same way, so that
// embedded and catalog signatures get the same statuses.
//
// Revocation is not checked (there is no offline source for it).
package authenticode

import (
	"encoding/binary"
	"errors"
	"hash"
)

// Layout is where the parts Authenticode leaves out of the image digest lie.
type Layout struct {
	ChecksumOffset int // the optional header's CheckSum (4 bytes)
	CertDirOffset  int // the certificate table's data directory entry (8 bytes)
	CertStart      int // the certificate table (file offset); 0 when absent
	CertEnd        int
}

// ErrNotPE is returned for data that is not a PE image.
var ErrNotPE = errors.New("not a PE image")

// ParseLayout reads the headers of a PE image. It only reads offsets that
// are inside data and never allocates.
func ParseLayout(data []byte) (Layout, error) {
	var l Layout
	if len(data) < 0x40 || data[0] != 'M' || data[1] != 'Z' {
		return l, ErrNotPE
	}
	pe := int(binary.LittleEndian.Uint32(data[0x3c:]))
	// PE signature (4) + COFF header (20) + optional header magic (2).
	if pe < 0 || pe > len(data)-26 || string(data[pe:pe+4]) != "PE\x00\x00" {
		return l, ErrNotPE
	}
	optSize := int(binary.LittleEndian.Uint16(data[pe+20:]))
	opt := pe + 24
	var dirs, numOff int
	switch binary.LittleEndian.Uint16(data[opt:]) {
	case 0x10b: // PE32
		numOff, dirs = opt+92, opt+96
	case 0x20b: // PE32+
		numOff, dirs = opt+108, opt+112
	default:
		return l, ErrNotPE
	}
	l.ChecksumOffset = opt + 64
	l.CertDirOffset = dirs + 4*8
	if numOff+4 > len(data) || l.CertDirOffset+8 > len(data) || l.CertDirOffset+8 > opt+optSize {
		// Too few data directories for a certificate table: unsigned.
		if l.ChecksumOffset+4 > len(data) {
			return l, ErrNotPE
		}
		l.CertDirOffset = -1
		return l, nil
	}
	if binary.LittleEndian.Uint32(data[numOff:]) <= 4 {
		l.CertDirOffset = -1
		return l, nil
	}
	start := int64(binary.LittleEndian.Uint32(data[l.CertDirOffset:]))
	size := int64(binary.LittleEndian.Uint32(data[l.CertDirOffset+4:]))
	if start != 0 && size != 0 {
		if start+size > int64(len(data)) || start < int64(l.CertDirOffset+8) {
			return l, errors.New("certificate table outside the file")
		}
		l.CertStart, l.CertEnd = int(start), int(start+size)
	}
	return l, nil
}

// Digest writes the Authenticode image digest input of data to each hasher:
// the whole file except the checksum, the certificate table's directory
// entry and the certificate table itself.
func (l Layout) Digest(data []byte, hs ...hash.Hash) {
	write := func(b []byte) {
		for _, h := range hs {
			h.Write(b)
		}
	}
	end := len(data)
	if l.CertStart != 0 {
		end = l.CertStart
	}
	write(data[:l.ChecksumOffset])
	if l.CertDirOffset < 0 {
		write(data[l.ChecksumOffset+4 : end])
	} else {
		write(data[l.ChecksumOffset+4 : l.CertDirOffset])
		write(data[l.CertDirOffset+8 : end])
	}
	if l.CertStart != 0 {
		write(data[l.CertEnd:])
	}
}

// Certificates returns the WIN_CERTIFICATE entries of type PKCS#7 SignedData
// in the certificate table.
func (l Layout) Certificates(data []byte) ([][]byte, error) {
	if l.CertStart == 0 {
		return nil, nil
	}
	var out [][]byte
	tab := data[l.CertStart:l.CertEnd]
	for len(tab) >= 8 {
		n := int(binary.LittleEndian.Uint32(tab))
		rev := binary.LittleEndian.Uint16(tab[4:])
		typ := binary.LittleEndian.Uint16(tab[6:])
		if n < 8 || n > len(tab) {
			return out, errors.New("malformed certificate table entry")
		}
		if typ == 2 && (rev == 0x200 || rev == 0x100) { // WIN_CERT_TYPE_PKCS_SIGNED_DATA
			out = append(out, tab[8:n])
		}
		n = (n + 7) &^ 7 // entries are 8-byte aligned
		if n > len(tab) {
			break
		}
		tab = tab[n:]
	}
	return out, nil
}
