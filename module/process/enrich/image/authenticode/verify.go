package authenticode

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"
)

// Statuses, in the vocabulary of Elastic Defend's code_signature.status.
const (
	StatusTrusted       = "trusted"
	StatusExpired       = "errorExpired"
	StatusUntrustedRoot = "errorUntrustedRoot"
	StatusChaining      = "errorChaining"
	StatusBadDigest     = "errorBadDigest"
	StatusRevoked       = "errorRevoked" // only from the operating system: no offline revocation source
)

// Signature is what one signature says about an image.
type Signature struct {
	SubjectName      string // common name of the signing certificate
	ThumbprintSHA256 string // of the signing certificate, lower-case hex
	Trusted          bool   // the digest matches and the chain ends at a trusted root
	Status           string
}

// OIDs of the structures Authenticode uses.
var (
	OIDIndirectData = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}
	oidSHA1         = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256       = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

// IndirectData is SpcIndirectDataContent: what was signed (for PE images,
// the image digest).
type IndirectData struct {
	Data struct {
		Type  asn1.ObjectIdentifier
		Value asn1.RawValue `asn1:"optional"`
	}
	Digest struct {
		Algorithm pkix.AlgorithmIdentifier
		Digest    []byte
	}
}

// HashOf names the hash function of an algorithm identifier; only SHA-1 and
// SHA-256 are used for image digests.
func HashOf(alg pkix.AlgorithmIdentifier) (crypto.Hash, bool) {
	switch {
	case alg.Algorithm.Equal(oidSHA1):
		return crypto.SHA1, true
	case alg.Algorithm.Equal(oidSHA256):
		return crypto.SHA256, true
	}
	return 0, false
}

// Digests are an image's Authenticode digests.
type Digests struct{ SHA1, SHA256 []byte }

// ImageDigests computes the SHA-1 and SHA-256 image digests in one pass.
func ImageDigests(data []byte, l Layout) Digests {
	h1, h256 := sha1.New(), sha256.New()
	l.Digest(data, h1, h256)
	return Digests{SHA1: h1.Sum(nil), SHA256: h256.Sum(nil)}
}

// Of returns the digest for hash h.
func (d Digests) Of(h crypto.Hash) []byte {
	if h == crypto.SHA1 {
		return d.SHA1
	}
	return d.SHA256
}

// VerifyEmbedded checks every signature in the image's certificate table
// against roots. An image without a certificate table has none.
func VerifyEmbedded(data []byte, l Layout, d Digests, roots *x509.CertPool) ([]Signature, error) {
	blobs, err := l.Certificates(data)
	var out []Signature
	for _, der := range blobs {
		out = append(out, verifyOne(der, d, roots))
	}
	return out, err
}

func verifyOne(der []byte, d Digests, roots *x509.CertPool) Signature {
	psd, err := pkcs7.Unmarshal(der)
	if err != nil || !psd.Content.ContentInfo.ContentType.Equal(OIDIndirectData) {
		return Signature{Status: StatusBadDigest}
	}
	var ind IndirectData
	if err := psd.Content.ContentInfo.Unmarshal(&ind); err != nil {
		return Signature{Status: StatusBadDigest}
	}
	sig, err := psd.Content.Verify(nil, false)
	if err != nil {
		return Signature{Status: StatusBadDigest}
	}
	out := Check(sig, roots)
	h, ok := HashOf(ind.Digest.Algorithm)
	if !ok || !bytes.Equal(d.Of(h), ind.Digest.Digest) {
		// The image changed after it was signed.
		out.Trusted, out.Status = false, StatusBadDigest
	}
	return out
}

// Check checks an already verified PKCS#7 signature's certificate chain
// against roots, as of its timestamp when it has a valid one (so that
// signatures stay valid after their certificates expire, as on Windows) and
// as of now otherwise.
func Check(sig pkcs7.Signature, roots *x509.CertPool) Signature {
	out := Signature{SubjectName: sig.Certificate.Subject.CommonName}
	sum := sha256.Sum256(sig.Certificate.Raw)
	out.ThumbprintSHA256 = hex.EncodeToString(sum[:])
	if roots == nil {
		roots = x509.NewCertPool()
	}
	err := errors.New("no timestamp")
	if ts, terr := pkcs9.VerifyOptionalTimestamp(sig); terr == nil && ts.CounterSignature != nil {
		err = ts.VerifyChain(roots, nil, x509.ExtKeyUsageCodeSigning)
	}
	if err != nil {
		err = sig.VerifyChain(roots, nil, x509.ExtKeyUsageCodeSigning, time.Time{})
	}
	out.Status = status(err, sig)
	out.Trusted = out.Status == StatusTrusted
	return out
}

func status(err error, sig pkcs7.Signature) string {
	if err == nil {
		return StatusTrusted
	}
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		return StatusExpired
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		// A chain that reaches a self-signed certificate we do not trust
		// fails at its root; one that stops short of any root fails chaining.
		for _, c := range append([]*x509.Certificate{sig.Certificate}, sig.Intermediates...) {
			if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
				return StatusUntrustedRoot
			}
		}
	}
	return StatusChaining
}

// String is for tests and logs.
func (s Signature) String() string {
	return fmt.Sprintf("%s trusted=%v status=%s", s.SubjectName, s.Trusted, s.Status)
}
