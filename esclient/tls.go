package esclient

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/transport/tlscommon"
)

// SSLConfig is the ssl subsection: Beats' ssl.* client settings, with
// Beats' meanings. The values stay plain strings here so that any decoder
// fills them; toCommon turns them into elastic-agent-libs' tlscommon.Config,
// which does the loading and the verification, so that errors can name the
// key under output.elasticsearch.ssl.
type SSLConfig struct {
	// Enabled false ignores the other ssl settings: https hosts are then
	// verified in full against the system's CAs, as in Beats.
	Enabled *bool `config:"enabled"`
	// VerificationMode is full (the default: chain, and the host name
	// against the certificate's SANs or, without SANs, its common name),
	// strict (as full, but a certificate without SANs is refused),
	// certificate (chain only, any host name) or none (nothing verified;
	// logged as a warning).
	VerificationMode string `config:"verification_mode"`
	// CertificateAuthorities are PEM files (or inline PEM) of the CAs to
	// trust instead of the system's.
	CertificateAuthorities []string `config:"certificate_authorities"`
	// Certificate and Key are the client certificate and its private key
	// (PEM files or inline PEM), for clusters that require one.
	Certificate string `config:"certificate"`
	Key         string `config:"key"`
	// KeyPassphrase (or the file KeyPassphrasePath) decrypts Key.
	KeyPassphrase     string `config:"key_passphrase"`
	KeyPassphrasePath string `config:"key_passphrase_path"`
	// SupportedProtocols are TLSv1.1, TLSv1.2 and TLSv1.3 (default: 1.2
	// and 1.3).
	SupportedProtocols []string `config:"supported_protocols"`
	// CipherSuites and CurveTypes restrict the handshake (names as in
	// Beats, e.g. ECDHE-RSA-AES-256-GCM-SHA384 and P-256).
	CipherSuites []string `config:"cipher_suites"`
	CurveTypes   []string `config:"curve_types"`
	// Renegotiation is never (default), once or freely.
	Renegotiation string `config:"renegotiation"`
	// CATrustedFingerprint is the hex SHA-256 of a CA certificate that the
	// server presents in its chain; that certificate is then trusted.
	CATrustedFingerprint string `config:"ca_trusted_fingerprint"`
	// CASHA256 pins the chain: one of its certificates' public key
	// (base64 SHA-256 of the SPKI) must be listed.
	CASHA256 []string `config:"ca_sha256"`
}

// Verification modes.
const (
	VerifyFull        = "full"
	VerifyStrict      = "strict"
	VerifyCertificate = "certificate"
	VerifyNone        = "none"
)

const sslKey = "output.elasticsearch.ssl."

// Validate checks the values without reading files; errors name the key
// under output.elasticsearch.ssl.
func (s SSLConfig) Validate() error {
	_, err := s.toCommon()
	return err
}

// toCommon checks the values and converts them; errors name the key.
func (s SSLConfig) toCommon() (*tlscommon.Config, error) {
	c := &tlscommon.Config{
		Enabled:          s.Enabled,
		CAs:              s.CertificateAuthorities,
		CASha256:         s.CASHA256,
		VerificationMode: tlscommon.VerifyFull,
		Certificate: tlscommon.CertificateConfig{
			Certificate: s.Certificate, Key: s.Key,
			Passphrase: s.KeyPassphrase, PassphrasePath: s.KeyPassphrasePath,
		},
	}
	if s.VerificationMode != "" {
		if err := c.VerificationMode.Unpack(s.VerificationMode); err != nil {
			return nil, fmt.Errorf("%sverification_mode: %w (want full, strict, certificate or none)", sslKey, err)
		}
	}
	if s.CATrustedFingerprint != "" {
		fp, err := parseFingerprint(s.CATrustedFingerprint)
		if err != nil {
			return nil, fmt.Errorf("%sca_trusted_fingerprint: %w", sslKey, err)
		}
		// tlscommon wants plain hex; Beats users also paste the
		// colon-separated form openssl prints.
		c.CATrustedFingerprint = fmt.Sprintf("%x", fp)
	}
	var err error
	if c.Versions, err = unpackEach[tlscommon.TLSVersion]("supported_protocols", s.SupportedProtocols); err != nil {
		return nil, err
	}
	if c.CipherSuites, err = unpackEach[tlscommon.CipherSuite]("cipher_suites", s.CipherSuites); err != nil {
		return nil, err
	}
	if c.CurveTypes, err = unpackEach[tlscommon.TLSCurveType]("curve_types", s.CurveTypes); err != nil {
		return nil, err
	}
	if s.Renegotiation != "" {
		if err := c.Renegotiation.Unpack(s.Renegotiation); err != nil {
			return nil, fmt.Errorf("%srenegotiation: %w (want never, once or freely)", sslKey, err)
		}
	}
	for i, f := range s.CertificateAuthorities {
		if strings.TrimSpace(f) == "" {
			return nil, fmt.Errorf("%scertificate_authorities.%d: empty file name", sslKey, i)
		}
	}
	switch err := c.Certificate.Validate(); {
	case errors.Is(err, tlscommon.ErrKeyUnspecified):
		return nil, fmt.Errorf("%skey: required with ssl.certificate", sslKey)
	case errors.Is(err, tlscommon.ErrCertificateUnspecified):
		return nil, fmt.Errorf("%scertificate: required with ssl.key", sslKey)
	case err != nil:
		return nil, fmt.Errorf("%scertificate: %w", sslKey, err)
	}
	return c, nil
}

// unpacker is a tlscommon setting type that parses its Beats name.
type unpacker[T any] interface {
	*T
	Unpack(any) error
	Validate() error
}

func unpackEach[T any, P unpacker[T]](key string, in []string) ([]T, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]T, len(in))
	for i, s := range in {
		p := P(&out[i])
		if err := p.Unpack(s); err != nil {
			return nil, fmt.Errorf("%s%s.%d: %w", sslKey, key, i, err)
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%s%s.%d: %w", sslKey, key, i, err)
		}
	}
	return out, nil
}

// loadTLS reads the files the settings name. Each file is read first on
// its own so that an error names its key; tlscommon then loads them all.
// nil means ssl.enabled: false.
func loadTLS(s SSLConfig, log *logp.Logger) (*tlscommon.TLSConfig, error) {
	common, err := s.toCommon()
	if err != nil {
		return nil, err
	}
	if !common.IsEnabled() {
		return nil, nil
	}
	for i, ca := range common.CAs {
		if _, errs := tlscommon.LoadCertificateAuthorities([]string{ca}, logp.NewNopLogger()); len(errs) > 0 {
			return nil, fmt.Errorf("%scertificate_authorities.%d: %w", sslKey, i, errors.Join(errs...))
		}
	}
	if _, err := tlscommon.LoadCertificate(&common.Certificate, logp.NewNopLogger()); err != nil {
		return nil, fmt.Errorf("%scertificate (with ssl.key): %w", sslKey, err)
	}
	tc, err := tlscommon.LoadTLSConfig(common, log)
	if err != nil {
		return nil, fmt.Errorf("output.elasticsearch.ssl: %w", err)
	}
	return tc, nil
}

// hostTransports sends each request through the transport built for its
// host. tlscommon checks the host name against the name a tls.Config was
// built for, so every https host needs one of its own; the hosts are
// fixed when the client is made, and the map is only read afterwards.
type hostTransports struct {
	byHost map[string]*http.Transport // by URL host (host:port)
}

func (h hostTransports) RoundTrip(req *http.Request) (*http.Response, error) {
	t, ok := h.byHost[req.URL.Host]
	if !ok {
		// Only the configured hosts are ever asked; anything else would
		// go out unverified, so refuse it.
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("no transport for host %q: not in output.elasticsearch.hosts", req.URL.Host)
	}
	return t.RoundTrip(req)
}

// CloseIdleConnections lets the elastictransport client (and tests) drop
// pooled connections.
func (h hostTransports) CloseIdleConnections() {
	for _, t := range h.byHost {
		t.CloseIdleConnections()
	}
}

// clientTLS returns the tls.Config for connections to u. In mode none it
// is built once (tlscommon logs Beats' "SSL/TLS verifications disabled."
// warning each time one is built); otherwise per host name.
func clientTLS(tc *tlscommon.TLSConfig, u *url.URL, shared **tls.Config, log *logp.Logger) *tls.Config {
	if tc != nil && tc.Verification == tlscommon.VerifyNone {
		if *shared == nil {
			*shared = tc.ToConfig()
		}
		return *shared
	}
	c := tc.BuildModuleClientConfig(u.Hostname(), tlscommon.WithLogger(log))
	if tc != nil && tc.CATrustedFingerprint != "" {
		// tlscommon only logs a fingerprint that matches no CA of the
		// chain; the error the user sees should say so too.
		fp, _ := hex.DecodeString(tc.CATrustedFingerprint)
		verify := c.VerifyConnection
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			err := verify(cs)
			if err == nil || pinnedCAInChain(cs.PeerCertificates, fp) {
				return err
			}
			return fmt.Errorf("no CA certificate in the server's chain matches ssl.ca_trusted_fingerprint, and the chain is not otherwise trusted: %w", err)
		}
	}
	return c
}

func pinnedCAInChain(chain []*x509.Certificate, fp []byte) bool {
	for _, cert := range chain {
		if sum := sha256.Sum256(cert.Raw); cert.IsCA && bytes.Equal(sum[:], fp) {
			return true
		}
	}
	return false
}
