// Package certs makes throwaway X.509 material for TLS tests: a CA, and
// server and client certificates it signs, written as PEM files. Keys are
// ECDSA P-256, which every TLS stack here (Go, Elasticsearch's JSSE)
// accepts and which is fast to generate.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/youmark/pkcs8"
)

// CA is a certificate authority that signs leaf certificates.
type CA struct {
	Cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	CertPEM []byte
	// File is the CA certificate written as PEM.
	File string
}

// Leaf is a signed certificate and its key, in memory and on disk.
type Leaf struct {
	CertPEM, KeyPEM   []byte
	CertFile, KeyFile string
	Cert              *x509.Certificate
	key               *ecdsa.PrivateKey
}

// NewCA makes a CA named name and writes it to dir/name.crt.
func NewCA(t testing.TB, dir, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &CA{Cert: cert, key: key, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	ca.File = write(t, filepath.Join(dir, name+".crt"), ca.CertPEM)
	return ca
}

// Fingerprint is the hex SHA-256 of the CA certificate, the form
// ssl.ca_trusted_fingerprint takes.
func (ca *CA) Fingerprint() string {
	sum := sha256.Sum256(ca.Cert.Raw)
	return hex.EncodeToString(sum[:])
}

// Names are the subject alternative names of a leaf; with none, the
// certificate carries only its common name.
type Names struct {
	CommonName string
	DNS        []string
	IPs        []net.IP
}

// Server signs a server certificate and writes dir/name.crt and .key.
func (ca *CA) Server(t testing.TB, dir, name string, n Names) *Leaf {
	return ca.leaf(t, dir, name, n, x509.ExtKeyUsageServerAuth)
}

// Client signs a client certificate and writes dir/name.crt and .key.
func (ca *CA) Client(t testing.TB, dir, name string, n Names) *Leaf {
	return ca.leaf(t, dir, name, n, x509.ExtKeyUsageClientAuth)
}

func (ca *CA) leaf(t testing.TB, dir, name string, n Names, usage x509.ExtKeyUsage) *Leaf {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: n.CommonName},
		DNSNames:     n.DNS,
		IPAddresses:  n.IPs,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	l := &Leaf{
		Cert:    cert,
		key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	l.CertFile = write(t, filepath.Join(dir, name+".crt"), l.CertPEM)
	l.KeyFile = write(t, filepath.Join(dir, name+".key"), l.KeyPEM)
	return l
}

// EncryptedKey writes the key encrypted with passphrase (PKCS#8, as
// ssl.key_passphrase reads it) to path and returns path.
func (l *Leaf) EncryptedKey(t testing.TB, path, passphrase string) string {
	t.Helper()
	der, err := pkcs8.MarshalPrivateKey(l.key, []byte(passphrase), nil)
	if err != nil {
		t.Fatal(err)
	}
	return write(t, path, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}))
}

// Chain is the leaf followed by its CA, as a server should present it
// (ssl.ca_trusted_fingerprint needs the CA in the chain).
func (l *Leaf) Chain(ca *CA) []byte {
	return append(append([]byte(nil), l.CertPEM...), ca.CertPEM...)
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func write(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
