// Package imagetest builds the PE images, certificates and catalogs the
// enrichment tests need: a tiny Windows program compiled with
// `GOOS=windows go build`, with a version resource, signed with osslsigncode
// and a throwaway certificate authority, and catalogs listing images.
// Only tests import it.
package imagetest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/tc-hib/winres"

	"github.com/procbeat/procbeat/module/process/enrich/image/authenticode"
	"github.com/procbeat/procbeat/module/process/enrich/image/catalog"
)

// Version is what the version resource of a built image says.
type Version struct {
	OriginalFilename, FileVersion, ProductName, CompanyName, FileDescription string
}

// BuildPE compiles a tiny Windows program with v as its version resource
// and returns the image.
func BuildPE(t testing.TB, v Version) []byte {
	t.Helper()
	dir := t.TempDir()
	src := "package main\n\nimport \"os\"\n\nfunc main() { os.Exit(len(os.Args) - 1) }\n"
	write(t, filepath.Join(dir, "main.go"), []byte(src))
	write(t, filepath.Join(dir, "go.mod"), []byte("module tiny\n\ngo 1.22\n"))
	rs := versionResources(t, v)
	f, err := os.Create(filepath.Join(dir, "rsrc_windows_amd64.syso"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.WriteObject(f, winres.ArchAMD64); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, "tiny.exe")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a Windows test image: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CA is a throwaway certificate authority and a code-signing certificate
// it issued.
type CA struct {
	Root     *x509.Certificate
	RootPEM  []byte
	Leaf     *x509.Certificate
	LeafKey  *ecdsa.PrivateKey
	certFile string
	keyFile  string
}

// NewCA makes a CA whose leaf's common name is subject.
func NewCA(t testing.TB, subject string) *CA {
	t.Helper()
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: subject + " Test Root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: subject},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	dir := t.TempDir()
	ca := &CA{Root: root, Leaf: leaf, LeafKey: leafKey,
		RootPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}),
		certFile: filepath.Join(dir, "leaf.pem"), keyFile: filepath.Join(dir, "leaf.key")}
	// The signature carries the whole chain, as real ones carry theirs up
	// to (and often including) the root.
	write(t, ca.certFile, append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), ca.RootPEM...))
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	write(t, ca.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	return ca
}

// Pool is a pool holding only the CA's root.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Root)
	return p
}

// NeedOsslsigncode skips the test when osslsigncode is not installed,
// except in CI (CI=true), where it must be (.ci/run installs it).
func NeedOsslsigncode(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("osslsigncode"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("osslsigncode is required in CI (apt-get install -y osslsigncode)")
		}
		t.Skip("osslsigncode not installed (apt-get install -y osslsigncode)")
	}
}

// Sign signs an image with osslsigncode (SHA-256, no timestamp).
func (ca *CA) Sign(t testing.TB, image []byte) []byte {
	t.Helper()
	NeedOsslsigncode(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.exe"), filepath.Join(dir, "out.exe")
	write(t, in, image)
	cmd := exec.Command("osslsigncode", "sign", "-certs", ca.certFile, "-key", ca.keyFile,
		"-h", "sha256", "-n", "procbeat test", "-in", in, "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("osslsigncode: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Catalog returns a catalog listing the images' SHA-256 image digests
// (and, for those in sha1Only, only their SHA-1 digest, as in version 1
// catalogs), signed by the CA's leaf.
func (ca *CA) Catalog(t testing.TB, images [][]byte, sha1Only [][]byte) []byte {
	t.Helper()
	var subjects []trustedSubject
	add := func(img []byte, h crypto.Hash) {
		l, err := authenticode.ParseLayout(img)
		if err != nil {
			t.Fatal(err)
		}
		d := authenticode.ImageDigests(img, l).Of(h)
		alg := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, Parameters: asn1.NullRawValue}
		if h == crypto.SHA1 {
			alg.Algorithm = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
		}
		var ind authenticode.IndirectData
		ind.Data.Type = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 15} // SPC_PE_IMAGE_DATA
		ind.Data.Value = asn1.RawValue{FullBytes: []byte{0x30, 0x00}}
		ind.Digest.Algorithm, ind.Digest.Digest = alg, d
		indDER, err := asn1.Marshal(ind)
		if err != nil {
			t.Fatal(err)
		}
		subjects = append(subjects, trustedSubject{ID: d, Attributes: []attribute{{
			Type: authenticode.OIDIndirectData, Values: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: indDER},
		}}})
	}
	for _, img := range images {
		add(img, crypto.SHA256)
	}
	for _, img := range sha1Only {
		add(img, crypto.SHA1)
	}
	list := ctl{
		SubjectUsage:     []asn1.ObjectIdentifier{{1, 3, 6, 1, 4, 1, 311, 12, 1, 1}}, // szOID_CATALOG_LIST
		ListIdentifier:   []byte{1, 2, 3, 4},
		ThisUpdate:       time.Now().UTC().Truncate(time.Second),
		SubjectAlgorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 12, 1, 2}, Parameters: asn1.NullRawValue},
		Subjects:         subjects,
	}
	der, err := asn1.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	b := pkcs7.NewBuilder(ca.LeafKey, []*x509.Certificate{ca.Leaf, ca.Root}, crypto.SHA256)
	if err := b.SetContent(catalog.OIDCTL, asn1.RawValue{FullBytes: der}); err != nil {
		t.Fatal(err)
	}
	psd, err := b.Sign()
	if err != nil {
		t.Fatal(err)
	}
	out, err := psd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type ctl struct {
	SubjectUsage     []asn1.ObjectIdentifier
	ListIdentifier   []byte
	ThisUpdate       time.Time `asn1:"utc"`
	SubjectAlgorithm pkix.AlgorithmIdentifier
	Subjects         []trustedSubject
}

type trustedSubject struct {
	ID         []byte
	Attributes []attribute `asn1:"set"`
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue
}

// Tamper returns a copy of a signed image with one byte of its code changed.
func Tamper(t testing.TB, image []byte) []byte {
	t.Helper()
	out := append([]byte(nil), image...)
	l, err := authenticode.ParseLayout(out)
	if err != nil {
		t.Fatal(err)
	}
	i := 0x600 // inside the first section of a Go image
	if i >= len(out) || (l.CertStart != 0 && i >= l.CertStart) {
		t.Fatal("image too small to tamper with")
	}
	out[i] ^= 0xff
	return out
}

// Write writes data to path, creating its directories.
func Write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, path, data)
}

func write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
