package esclient

import (
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"strings"
	"testing"

	"github.com/elastic/elastic-agent-libs/logp"

	"github.com/procbeat/procbeat/testing/certs"
	"github.com/procbeat/procbeat/testing/estest"
)

// TestTLSAgainstCluster runs every verification mode against one real
// cluster with security on, HTTPS, and client certificates required. Its
// certificate names "localhost" only, so https://localhost:PORT matches
// and https://127.0.0.1:PORT is a host-name mismatch.
func TestTLSAgainstCluster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := certs.NewCA(t, dir, "ca")
	other := certs.NewCA(t, dir, "other-ca")
	server := ca.Server(t, dir, "es", certs.Names{CommonName: "localhost", DNS: []string{"localhost"}})
	client := ca.Client(t, dir, "procbeat", certs.Names{CommonName: "procbeat"})
	stranger := other.Client(t, dir, "stranger", certs.Names{CommonName: "stranger"})

	harnessCert, err := tls.X509KeyPair(client.CertPEM, client.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	c := estest.StartDedicated(t, estest.Options{Security: true, TLS: &estest.TLS{
		Certificate: server.Chain(ca), Key: server.KeyPEM, ClientCA: ca.CertPEM,
		ClientAuth: "required",
		// The harness connects to whatever address the engine gives, so
		// it checks the certificate against the name it carries.
		Client: &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{harnessCert}, MinVersion: tls.VersionTLS12},
	}})
	u, err := url.Parse(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	byName := "https://localhost:" + u.Port()
	byIP := "https://127.0.0.1:" + u.Port()

	trusted := SSLConfig{CertificateAuthorities: []string{ca.File}, Certificate: client.CertFile, Key: client.KeyFile}
	with := func(f func(*SSLConfig)) SSLConfig { s := trusted; f(&s); return s }
	mode := func(m string) SSLConfig { return with(func(s *SSLConfig) { s.VerificationMode = m }) }
	untrusted := func(m string) SSLConfig {
		return with(func(s *SSLConfig) { s.VerificationMode, s.CertificateAuthorities = m, []string{other.File} })
	}

	for _, tc := range []struct {
		name, host string
		ssl        SSLConfig
		ok         bool
		wantDetail string
	}{
		{"client certificate, full", byName, trusted, true, ""},
		{"client certificate, strict", byName, mode(VerifyStrict), true, ""},
		{"client certificate, CA pinned by fingerprint", byName, with(func(s *SSLConfig) {
			s.CertificateAuthorities, s.CATrustedFingerprint = nil, ca.Fingerprint()
		}), true, ""},
		{"no client certificate", byName, with(func(s *SSLConfig) { s.Certificate, s.Key = "", "" }), false, "requires a client certificate"},
		{"client certificate of another CA", byName, with(func(s *SSLConfig) { s.Certificate, s.Key = stranger.CertFile, stranger.KeyFile }), false, "refused the client certificate"},
		{"host-name mismatch, certificate", byIP, mode(VerifyCertificate), true, ""},
		{"host-name mismatch, full", byIP, mode(VerifyFull), false, "does not match the host name"},
		{"host-name mismatch, strict", byIP, mode(VerifyStrict), false, "does not match the host name"},
		{"untrusted CA, full", byName, untrusted(VerifyFull), false, "unknown authority"},
		{"untrusted CA, strict", byName, untrusted(VerifyStrict), false, "unknown authority"},
		{"untrusted CA, certificate", byName, untrusted(VerifyCertificate), false, "unknown authority"},
		{"untrusted CA and mismatch, none", byIP, untrusted(VerifyNone), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := clusterConfig(c)
			cfg.Hosts = []string{tc.host}
			cfg.SSL = tc.ssl
			logger, logs := logp.NewInMemoryLocal("", logp.ConsoleEncoderConfig())
			checks := TestOutput(t.Context(), cfg, WithLogger(logger))
			conn := checksByName(checks)["connection "+tc.host]
			if conn.OK != tc.ok || !strings.Contains(conn.Detail, tc.wantDetail) {
				t.Fatalf("got %+v, want ok=%v detail containing %q (all: %+v)", conn, tc.ok, tc.wantDetail, checks)
			}
			if tc.ok {
				// Authenticated as elastic over the verified connection.
				for _, ch := range checks {
					if !ch.OK {
						t.Errorf("check %q: %s", ch.Name, ch.Detail)
					}
				}
			}
			warned := strings.Contains(logs.String(), "SSL/TLS verifications disabled.")
			if warned != (tc.ssl.VerificationMode == VerifyNone) {
				t.Errorf("verification_mode %q: warning logged %v; log:\n%s", tc.ssl.VerificationMode, warned, logs)
			}
		})
	}
}
