package esclient

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
)

// New returns a client for cfg. It validates cfg and reads the CA files
// but does not contact the cluster.
func New(cfg Config) (*elasticsearch.Client, error) {
	return newClient(cfg, true)
}

// newClient is New with the client's retries optional: checks want one
// clear answer per host rather than the same failure four times.
func newClient(cfg Config, retry bool) (*elasticsearch.Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	urls, err := cfg.URLs()
	if err != nil {
		return nil, err
	}
	transport, err := newTransport(cfg)
	if err != nil {
		return nil, err
	}
	esCfg := elasticsearch.Config{
		Addresses:                urls,
		Username:                 cfg.Username,
		Password:                 cfg.Password,
		Transport:                transport,
		CompressRequestBody:      cfg.CompressionLevel > 0,
		CompressRequestBodyLevel: cfg.CompressionLevel,
		DisableRetry:             !retry,
	}
	if cfg.APIKey != "" {
		// Beats take "id:key"; the header wants it base64-encoded.
		esCfg.APIKey = base64.StdEncoding.EncodeToString([]byte(cfg.APIKey))
	}
	client, err := elasticsearch.NewClient(esCfg)
	if err != nil {
		return nil, fmt.Errorf("output.elasticsearch: %w", err)
	}
	return client, nil
}

// newTransport applies timeout (connect, TLS handshake and waiting for
// response headers; a slow body is bounded by the caller's context) and ssl.
func newTransport(cfg Config) (*http.Transport, error) {
	tlsCfg, err := tlsConfig(cfg.SSL)
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
	}, nil
}

func tlsConfig(s SSLConfig) (*tls.Config, error) {
	if s.VerificationMode == VerifyNone {
		// Explicitly requested: encrypt but trust any certificate.
		return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, nil //nolint:gosec
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	for i, file := range s.CertificateAuthorities {
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("output.elasticsearch.ssl.certificate_authorities[%d]: %w", i, err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("output.elasticsearch.ssl.certificate_authorities[%d]: %s holds no PEM certificate", i, file)
		}
	}
	c := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if s.CATrustedFingerprint != "" {
		fp, err := parseFingerprint(s.CATrustedFingerprint)
		if err != nil {
			return nil, fmt.Errorf("output.elasticsearch.ssl.ca_trusted_fingerprint: %w", err)
		}
		// The standard verification cannot know the pinned CA up front, so
		// it is switched off and redone in VerifyConnection with that CA
		// added; host name checking stays on.
		c.InsecureSkipVerify = true //nolint:gosec
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyWithFingerprint(cs, roots, fp)
		}
	}
	return c, nil
}

// verifyWithFingerprint verifies the server's chain against roots plus any
// CA certificate in that chain whose SHA-256 equals fp.
func verifyWithFingerprint(cs tls.ConnectionState, roots *x509.CertPool, fp []byte) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("server presented no certificate")
	}
	pool := roots.Clone()
	pinned := false
	for _, cert := range cs.PeerCertificates {
		sum := sha256.Sum256(cert.Raw)
		if cert.IsCA && bytes.Equal(sum[:], fp) {
			pool.AddCert(cert)
			pinned = true
		}
	}
	intermediates := x509.NewCertPool()
	for _, cert := range cs.PeerCertificates[1:] {
		intermediates.AddCert(cert)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots:         pool,
		Intermediates: intermediates,
		DNSName:       cs.ServerName,
	})
	switch {
	case err == nil:
		return nil
	case !pinned:
		return fmt.Errorf("no CA certificate in the server's chain matches ssl.ca_trusted_fingerprint, and the chain is not otherwise trusted: %w", err)
	default:
		return fmt.Errorf("server certificate: %w", err)
	}
}
