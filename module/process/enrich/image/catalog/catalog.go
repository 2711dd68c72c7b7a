// Package catalog reads Windows security catalogs (System32\CatRoot\{…}\*.cat):
// PKCS#7 SignedData whose content is a certificate trust list (CTL) of member
// files identified by their Authenticode image digests (SHA-1 or SHA-256).
// Most Windows system binaries carry no signature of their own and are
// signed through these catalogs, so an image's catalogs tell which of its
// files are signed and by whom.
package catalog

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"unicode/utf16"

	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/procbeat/procbeat/module/process/enrich/image/authenticode"
)

// OIDCTL is szOID_CTL, the content type of a catalog.
var OIDCTL = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 1}

// Members parses a CTL and returns the image digests it lists (each 20 or
// 32 bytes). It reads only within ctl and allocates only the digests it
// returns.
func Members(ctl []byte) ([][]byte, error) {
	in := cryptobyte.String(ctl)
	var list cryptobyte.String
	if !in.ReadASN1(&list, cbasn1.SEQUENCE) {
		return nil, errors.New("ctl: not a sequence")
	}
	// subjectUsage, listIdentifier?, sequenceNumber?, thisUpdate,
	// nextUpdate?, subjectAlgorithm: skipped up to the subjects.
	if !list.SkipASN1(cbasn1.SEQUENCE) ||
		!list.SkipOptionalASN1(cbasn1.OCTET_STRING) ||
		!list.SkipOptionalASN1(cbasn1.INTEGER) ||
		!skipTime(&list, false) || !skipTime(&list, true) ||
		!list.SkipASN1(cbasn1.SEQUENCE) {
		return nil, errors.New("ctl: malformed header")
	}
	var subjects cryptobyte.String
	var present bool
	if !list.ReadOptionalASN1(&subjects, &present, cbasn1.SEQUENCE) {
		return nil, errors.New("ctl: malformed subject list")
	}
	var out [][]byte
	for !subjects.Empty() {
		var subj, id cryptobyte.String
		if !subjects.ReadASN1(&subj, cbasn1.SEQUENCE) || !subj.ReadASN1(&id, cbasn1.OCTET_STRING) {
			return out, errors.New("ctl: malformed subject")
		}
		found := false
		var attrs cryptobyte.String
		var hasAttrs bool
		if !subj.ReadOptionalASN1(&attrs, &hasAttrs, cbasn1.SET) {
			return out, errors.New("ctl: malformed subject attributes")
		}
		for !attrs.Empty() {
			var attr, values cryptobyte.String
			var oid asn1.ObjectIdentifier
			if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) || !attr.ReadASN1(&values, cbasn1.SET) {
				return out, errors.New("ctl: malformed attribute")
			}
			if !oid.Equal(authenticode.OIDIndirectData) {
				continue
			}
			var ind authenticode.IndirectData
			if rest, err := asn1.Unmarshal(values, &ind); err == nil && len(rest) == 0 {
				if _, ok := authenticode.HashOf(ind.Digest.Algorithm); ok {
					out = append(out, ind.Digest.Digest)
					found = true
				}
			}
		}
		if !found {
			if d := tagDigest(id); d != nil {
				out = append(out, d)
			}
		}
	}
	return out, nil
}

func skipTime(s *cryptobyte.String, optional bool) bool {
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		return s.SkipASN1(cbasn1.UTCTime)
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		return s.SkipASN1(cbasn1.GeneralizedTime)
	}
	return optional
}

// tagDigest reads the subject identifier of a member without an indirect
// data attribute: the digest itself (catalog version 2) or its hex in
// UTF-16LE (version 1).
func tagDigest(id []byte) []byte {
	switch len(id) {
	case 20, 32:
		return append([]byte(nil), id...)
	case 80, 128:
		u := make([]uint16, len(id)/2)
		for i := range u {
			u[i] = uint16(id[2*i]) | uint16(id[2*i+1])<<8
		}
		d, err := hex.DecodeString(string(utf16.Decode(u)))
		if err == nil {
			return d
		}
	}
	return nil
}

// Catalog is one parsed catalog file.
type Catalog struct {
	Signer  authenticode.Signature
	Members [][]byte
}

// Parse verifies a catalog's signature and lists its members.
func Parse(der []byte, roots *x509.CertPool) (Catalog, error) {
	psd, err := pkcs7.Unmarshal(der)
	if err != nil {
		return Catalog{}, fmt.Errorf("catalog: %w", err)
	}
	if !psd.Content.ContentInfo.ContentType.Equal(OIDCTL) {
		return Catalog{}, errors.New("catalog: content is not a certificate trust list")
	}
	var ctl asn1.RawValue
	if err := psd.Content.ContentInfo.Unmarshal(&ctl); err != nil {
		return Catalog{}, fmt.Errorf("catalog: %w", err)
	}
	members, err := Members(ctl.FullBytes)
	if err != nil {
		return Catalog{}, err
	}
	c := Catalog{Members: members}
	sig, err := psd.Content.Verify(nil, false)
	if err != nil {
		// The catalog was altered after signing: its members prove nothing.
		c.Signer = authenticode.Signature{Status: authenticode.StatusBadDigest}
		return c, nil
	}
	c.Signer = authenticode.Check(sig, roots)
	return c, nil
}

// Index maps image digests to the signers of the catalogs that list them.
type Index struct {
	signers []authenticode.Signature
	byHash  map[string]int32 // digest bytes as a string → signer index
	Files   int              // catalogs read
	Errors  int              // catalogs that could not be read or parsed
}

// Lookup returns the signer of a catalog listing either digest, preferring
// a trusted one.
func (ix *Index) Lookup(d authenticode.Digests) (authenticode.Signature, bool) {
	if ix == nil {
		return authenticode.Signature{}, false
	}
	var found authenticode.Signature
	ok := false
	for _, k := range [][]byte{d.SHA256, d.SHA1} {
		if i, hit := ix.byHash[string(k)]; hit && len(k) > 0 {
			if s := ix.signers[i]; !ok || (s.Trusted && !found.Trusted) {
				found, ok = s, true
			}
		}
	}
	return found, ok
}

// Dir is where Windows keeps catalogs.
const Dir = `C:\Windows\System32\CatRoot`

// Load reads every *.cat under dir (a CatRoot directory: one subdirectory
// per catalog database GUID) in fsys, at most maxBytes in all.
func Load(fsys fs.FS, dir string, roots *x509.CertPool, maxBytes int64) (*Index, error) {
	ix := &Index{byHash: make(map[string]int32)}
	var total int64
	err := fs.WalkDir(fsys, dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			ix.Errors++
			return nil
		}
		if de.IsDir() || !strings.EqualFold(path.Ext(p), ".cat") {
			return nil
		}
		info, err := de.Info()
		if err != nil || !info.Mode().IsRegular() {
			ix.Errors++
			return nil
		}
		if total+info.Size() > maxBytes {
			return fmt.Errorf("catalogs under %s exceed %d bytes", dir, maxBytes)
		}
		total += info.Size()
		der, err := fs.ReadFile(fsys, p)
		if err != nil {
			ix.Errors++
			return nil
		}
		c, err := Parse(der, roots)
		if err != nil {
			ix.Errors++
			return nil
		}
		ix.Files++
		ix.add(c)
		return nil
	})
	return ix, err
}

func (ix *Index) add(c Catalog) {
	si := int32(len(ix.signers))
	ix.signers = append(ix.signers, c.Signer)
	for _, m := range c.Members {
		if old, ok := ix.byHash[string(m)]; ok && ix.signers[old].Trusted {
			continue
		}
		ix.byHash[string(m)] = si
	}
}
