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
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"

	"github.com/procbeat/procbeat/version"
)

// Transport performs one request against the cluster. *Client implements
// it, and so does go-elasticsearch's client (the test harness's).
type Transport interface {
	Perform(req *http.Request) (*http.Response, error)
}

// Client is procbeat's Elasticsearch connection: the official transport
// (node pool, retries, authentication, request compression) under the
// hand-built requests of this package and of the output. go-elasticsearch's
// root package is not used: it carries about 860 packages of typed API
// that procbeat never calls, and compiling them was most of a cold build.
type Client struct {
	tp *elastictransport.Client
	// genuine is set by the first successful answer that says it comes
	// from Elasticsearch; until then every such answer is checked.
	genuine atomic.Bool
}

// ErrNotElasticsearch is returned for a successful answer from a server
// that does not say it is Elasticsearch (X-Elastic-Product), as the
// official client refuses to talk to one.
var ErrNotElasticsearch = errors.New("the server is not Elasticsearch (no X-Elastic-Product: Elasticsearch header)")

// Perform implements Transport.
func (c *Client) Perform(req *http.Request) (*http.Response, error) {
	res, err := c.tp.Perform(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 && !c.genuine.Load() {
		if res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
			res.Body.Close()
			return nil, ErrNotElasticsearch
		}
		c.genuine.Store(true)
	}
	return res, nil
}

// New returns a client for cfg. It validates cfg and reads the CA files
// but does not contact the cluster.
func New(cfg Config) (*Client, error) {
	return newClient(cfg, true)
}

// newClient is New with the client's retries optional: checks want one
// clear answer per host rather than the same failure four times.
func newClient(cfg Config, retry bool) (*Client, error) {
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
	opts := []elastictransport.Option{
		elastictransport.WithUserAgent("procbeat/" + version.Version),
		elastictransport.WithTransport(transport),
	}
	var parsed []*url.URL
	for _, u := range urls {
		pu, err := url.Parse(strings.TrimRight(u, "/"))
		if err != nil {
			return nil, fmt.Errorf("output.elasticsearch: host %s: %w", u, err)
		}
		parsed = append(parsed, pu)
	}
	opts = append(opts, elastictransport.WithURLs(parsed...))
	switch {
	case cfg.APIKey != "":
		// Beats take "id:key"; the header wants it base64-encoded.
		opts = append(opts, elastictransport.WithAPIKey(base64.StdEncoding.EncodeToString([]byte(cfg.APIKey))))
	case cfg.Username != "" || cfg.Password != "":
		opts = append(opts, elastictransport.WithBasicAuth(cfg.Username, cfg.Password))
	}
	if cfg.CompressionLevel > 0 {
		opts = append(opts, elastictransport.WithCompression(cfg.CompressionLevel))
	}
	if !retry {
		opts = append(opts, elastictransport.WithDisableRetry())
	}
	tp, err := elastictransport.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("output.elasticsearch: %w", err)
	}
	return &Client{tp: tp}, nil
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
