package esclient

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/elastic/elastic-agent-libs/logp"

	"github.com/procbeat/procbeat/testing/certs"
)

// tlsServer serves fakeES over TLS with leaf (and its CA in the chain);
// with clientCA set it requires a client certificate that CA signed.
func tlsServer(t *testing.T, ca *certs.CA, leaf *certs.Leaf, clientCA *certs.CA, maxVersion uint16) *httptest.Server {
	t.Helper()
	pair, err := tls.X509KeyPair(leaf.Chain(ca), leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(fakeES{})
	// Refused handshakes are the point of these tests; keep them quiet.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MaxVersion: maxVersion}
	if clientCA != nil {
		pool := x509.NewCertPool()
		pool.AddCert(clientCA.Cert)
		srv.TLS.ClientCAs = pool
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestTLSVerificationModes(t *testing.T) {
	dir := t.TempDir()
	ca := certs.NewCA(t, dir, "ca")
	other := certs.NewCA(t, dir, "other-ca")
	loopback := certs.Names{CommonName: "es", DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
	good := ca.Server(t, dir, "good", loopback)
	// Signed by the trusted CA, but for a name the tests never connect to.
	mismatch := ca.Server(t, dir, "mismatch", certs.Names{CommonName: "es.example", DNS: []string{"es.example"}})
	// No SANs, the address only in the common name: full accepts it, as
	// Beats do; strict wants SANs.
	cnOnly := ca.Server(t, dir, "cn-only", certs.Names{CommonName: "127.0.0.1"})
	untrusted := other.Server(t, dir, "untrusted", loopback)
	client := ca.Client(t, dir, "client", certs.Names{CommonName: "procbeat"})
	encKey := client.EncryptedKey(t, filepath.Join(dir, "client-enc.key"), "s3cr3t-pass")
	passFile := filepath.Join(dir, "pass")
	writeFile(t, passFile, "s3cr3t-pass\n")

	srv := map[string]*httptest.Server{
		"good":      tlsServer(t, ca, good, nil, 0),
		"mismatch":  tlsServer(t, ca, mismatch, nil, 0),
		"cn-only":   tlsServer(t, ca, cnOnly, nil, 0),
		"untrusted": tlsServer(t, other, untrusted, nil, 0),
		"mutual":    tlsServer(t, ca, good, ca, 0),
		"tls12":     tlsServer(t, ca, good, nil, tls.VersionTLS12),
	}
	trust := SSLConfig{CertificateAuthorities: []string{ca.File}}
	with := func(s SSLConfig, f func(*SSLConfig)) SSLConfig { f(&s); return s }
	mode := func(m string) SSLConfig { return with(trust, func(s *SSLConfig) { s.VerificationMode = m }) }
	withClient := with(trust, func(s *SSLConfig) { s.Certificate, s.Key = client.CertFile, client.KeyFile })

	for _, tc := range []struct {
		name, server string
		ssl          SSLConfig
		ok           bool
		wantDetail   string
	}{
		{"full trusted", "good", mode(VerifyFull), true, ""},
		{"strict trusted", "good", mode(VerifyStrict), true, ""},
		{"certificate trusted", "good", mode(VerifyCertificate), true, ""},
		{"default mode is full", "mismatch", trust, false, "does not match the host name"},
		{"full mismatch", "mismatch", mode(VerifyFull), false, "does not match the host name"},
		{"strict mismatch", "mismatch", mode(VerifyStrict), false, "does not match the host name"},
		{"certificate mismatch", "mismatch", mode(VerifyCertificate), true, ""},
		{"none mismatch", "mismatch", mode(VerifyNone), true, ""},
		{"full common name only", "cn-only", mode(VerifyFull), true, ""},
		{"strict common name only", "cn-only", mode(VerifyStrict), false, "legacy Common Name"},
		{"full untrusted", "untrusted", mode(VerifyFull), false, "unknown authority"},
		{"strict untrusted", "untrusted", mode(VerifyStrict), false, "unknown authority"},
		{"certificate untrusted", "untrusted", mode(VerifyCertificate), false, "unknown authority"},
		{"none untrusted", "untrusted", mode(VerifyNone), true, ""},
		{"fingerprint trusts the other CA", "untrusted", SSLConfig{CATrustedFingerprint: other.Fingerprint()}, true, ""},
		{"fingerprint of another CA", "untrusted", SSLConfig{CATrustedFingerprint: ca.Fingerprint()}, false, "ca_trusted_fingerprint"},
		{"ssl disabled: system CAs, full", "good", with(trust, func(s *SSLConfig) { f := false; s.Enabled = &f }), false, "unknown authority"},
		{"client certificate sent", "mutual", withClient, true, ""},
		{"no client certificate", "mutual", trust, false, "requires a client certificate"},
		{"client certificate, encrypted key", "mutual", with(withClient, func(s *SSLConfig) { s.Key, s.KeyPassphrase = encKey, "s3cr3t-pass" }), true, ""},
		{"client certificate, passphrase file", "mutual", with(withClient, func(s *SSLConfig) { s.Key, s.KeyPassphrasePath = encKey, passFile }), true, ""},
		{"client certificate from another CA", "mutual", with(trust, func(s *SSLConfig) {
			l := other.Client(t, dir, "other-client", certs.Names{CommonName: "x"})
			s.Certificate, s.Key = l.CertFile, l.KeyFile
		}), false, "refused the client certificate"},
		{"TLS 1.3 only against a 1.2 server", "tls12", with(trust, func(s *SSLConfig) { s.SupportedProtocols = []string{"TLSv1.3"} }), false, "protocol version"},
		{"TLS 1.2 allowed", "tls12", with(trust, func(s *SSLConfig) { s.SupportedProtocols = []string{"TLSv1.2"} }), true, ""},
		{"cipher suite the server lacks", "tls12", with(trust, func(s *SSLConfig) {
			s.SupportedProtocols, s.CipherSuites = []string{"TLSv1.2"}, []string{"ECDHE-RSA-AES-128-GCM-SHA256"}
		}), false, "handshake failure"},
		{"cipher suite the server has", "tls12", with(trust, func(s *SSLConfig) {
			s.SupportedProtocols, s.CipherSuites = []string{"TLSv1.2"}, []string{"ECDHE-ECDSA-AES-128-GCM-SHA256"}
		}), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Hosts = []string{srv[tc.server].URL}
			cfg.SSL = tc.ssl
			c := TestOutput(t.Context(), cfg)[0]
			if c.OK != tc.ok || !strings.Contains(c.Detail, tc.wantDetail) {
				t.Errorf("got %+v, want ok=%v detail containing %q", c, tc.ok, tc.wantDetail)
			}
		})
	}
}

// verification_mode none logs Beats' warning once, through the logger
// given to the client; test output shows it as a WARN line.
func TestVerificationNoneWarns(t *testing.T) {
	dir := t.TempDir()
	ca := certs.NewCA(t, dir, "ca")
	srv := tlsServer(t, ca, ca.Server(t, dir, "s", certs.Names{DNS: []string{"es.example"}}), nil, 0)
	for _, mode := range []string{VerifyNone, VerifyFull} {
		logger, buf := logp.NewInMemoryLocal("", logp.ConsoleEncoderConfig())
		cfg := DefaultConfig()
		cfg.Hosts = []string{srv.URL, srv.URL + "/second"}
		cfg.SSL.VerificationMode = mode
		if _, err := New(cfg, WithLogger(logger)); err != nil {
			t.Fatal(err)
		}
		n := strings.Count(buf.String(), "SSL/TLS verifications disabled.")
		if mode == VerifyNone && (n != 1 || !strings.Contains(buf.String(), "WARN")) {
			t.Errorf("mode none: log %q, want the warning once", buf)
		}
		if mode == VerifyFull && n != 0 {
			t.Errorf("mode full: log %q, want no warning", buf)
		}
		checks := checksByName(TestOutput(t.Context(), cfg))
		if w, ok := checks["tls"]; ok != (mode == VerifyNone) || (ok && !strings.HasPrefix(w.Detail, "WARN")) {
			t.Errorf("mode %s: test output tls line %+v (present %v)", mode, w, ok)
		}
	}
}

func TestTLSFileErrorsNameTheKey(t *testing.T) {
	dir := t.TempDir()
	ca := certs.NewCA(t, dir, "ca")
	client := ca.Client(t, dir, "client", certs.Names{CommonName: "c"})
	enc := client.EncryptedKey(t, filepath.Join(dir, "enc.key"), "right")
	notPEM := filepath.Join(dir, "not.pem")
	writeFile(t, notPEM, "hello")
	for _, tc := range []struct {
		name string
		ssl  SSLConfig
		want string
	}{
		{"missing CA", SSLConfig{CertificateAuthorities: []string{ca.File, filepath.Join(dir, "nope.pem")}}, "output.elasticsearch.ssl.certificate_authorities.1:"},
		{"CA not PEM", SSLConfig{CertificateAuthorities: []string{notPEM}}, "output.elasticsearch.ssl.certificate_authorities.0:"},
		{"missing certificate", SSLConfig{Certificate: filepath.Join(dir, "nope.crt"), Key: client.KeyFile}, "output.elasticsearch.ssl.certificate"},
		{"wrong passphrase", SSLConfig{Certificate: client.CertFile, Key: enc, KeyPassphrase: "wrong"}, "output.elasticsearch.ssl.certificate"},
		{"key of another certificate", SSLConfig{Certificate: ca.File, Key: client.KeyFile}, "output.elasticsearch.ssl.certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Hosts = []string{"https://es.example:9200"}
			cfg.SSL = tc.ssl
			_, err := New(cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to start with %s", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "wrong") && tc.ssl.KeyPassphrase == "wrong" {
				t.Errorf("error shows the passphrase: %v", err)
			}
		})
	}
}

// connectProxy is an HTTP proxy for tests: CONNECT tunnels (https hosts)
// and absolute-URI requests (http hosts, answered by fakeES itself). It
// records the Proxy-Authorization and X-Proxy-Test headers it saw.
type connectProxy struct {
	mu      sync.Mutex
	seen    []string
	auth    []string
	headers []string
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seen = append(p.seen, r.Method+" "+r.Host)
	p.auth = append(p.auth, r.Header.Get("Proxy-Authorization"))
	p.headers = append(p.headers, r.Header.Get("X-Proxy-Test"))
	p.mu.Unlock()
	if r.Method != http.MethodConnect {
		fakeES{}.ServeHTTP(w, r)
		return
	}
	up, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusOK)
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		return
	}
	go func() {
		defer up.Close()
		defer conn.Close()
		if n := rw.Reader.Buffered(); n > 0 {
			b, _ := rw.Reader.Peek(n)
			_, _ = up.Write(b)
		}
		go func() { _, _ = io.Copy(up, conn) }()
		_, _ = io.Copy(conn, up)
	}()
}

func (p *connectProxy) requests() ([]string, []string, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...), append([]string(nil), p.auth...), append([]string(nil), p.headers...)
}

func TestProxy(t *testing.T) {
	dir := t.TempDir()
	ca := certs.NewCA(t, dir, "ca")
	es := tlsServer(t, ca, ca.Server(t, dir, "s", certs.Names{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}), nil, 0)
	proxy := &connectProxy{}
	psrv := httptest.NewServer(proxy)
	defer psrv.Close()
	proxyHost := strings.TrimPrefix(psrv.URL, "http://")

	t.Run("https host through proxy_url with credentials and headers", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Hosts = []string{es.URL}
		cfg.SSL.CertificateAuthorities = []string{ca.File}
		cfg.ProxyURL = "http://pu:s3cr3t@" + proxyHost
		cfg.ProxyHeaders = map[string]string{"X-Proxy-Test": "yes"}
		if c := TestOutput(t.Context(), cfg)[0]; !c.OK {
			t.Fatalf("through the proxy: %+v", c)
		}
		seen, auth, headers := proxy.requests()
		if len(seen) == 0 || seen[0] != "CONNECT "+strings.TrimPrefix(es.URL, "https://") {
			t.Fatalf("proxy saw %v, want a CONNECT to the cluster", seen)
		}
		if auth[0] != "Basic cHU6czNjcjN0" || headers[0] != "yes" {
			t.Errorf("proxy got auth %q, X-Proxy-Test %q", auth[0], headers[0])
		}
	})
	t.Run("host:port means http, plain host", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Hosts = []string{"http://es.invalid:9200"}
		cfg.ProxyURL = proxyHost
		if c := TestOutput(t.Context(), cfg)[0]; !c.OK {
			t.Fatalf("http host through the proxy: %+v", c)
		}
		seen, _, _ := proxy.requests()
		if !slices.Contains(seen, "GET es.invalid:9200") {
			t.Errorf("proxy saw %q, want the request for es.invalid", seen)
		}
	})
	t.Run("proxy_disable ignores proxy_url", func(t *testing.T) {
		before, _, _ := proxy.requests()
		cfg := DefaultConfig()
		cfg.Hosts = []string{es.URL}
		cfg.SSL.CertificateAuthorities = []string{ca.File}
		cfg.ProxyURL, cfg.ProxyDisable = psrv.URL, true
		if c := TestOutput(t.Context(), cfg)[0]; !c.OK {
			t.Fatalf("direct: %+v", c)
		}
		if after, _, _ := proxy.requests(); len(after) != len(before) {
			t.Errorf("proxy used despite proxy_disable: %v", after[len(before):])
		}
	})
	t.Run("dead proxy: error without its password", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := l.Addr().String()
		l.Close()
		cfg := DefaultConfig()
		cfg.Hosts = []string{es.URL}
		cfg.ProxyURL = "socks5://pu:s3cr3t@" + dead
		c := TestOutput(t.Context(), cfg)[0]
		if c.OK || strings.Contains(c.Detail, "s3cr3t") || !strings.Contains(c.Detail, "proxy") || !strings.Contains(c.Detail, dead) {
			t.Errorf("got %+v, want a failure naming the proxy address without the password", c)
		}
		cfg.ProxyURL = "ftp://pu:s3cr3t@" + dead
		err = cfg.Validate()
		if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "output.elasticsearch.proxy_url") {
			t.Errorf("bad scheme: %v", err)
		}
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
