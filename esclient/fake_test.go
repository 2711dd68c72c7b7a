package esclient

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeES answers like a minimal Elasticsearch: GET / and
// _has_privileges; auth, when set, is the required Authorization header.
type fakeES struct {
	auth       string
	privileges string // _has_privileges answer; "" = security disabled
	noRoot     bool   // answer "GET /" with 405, as the integ-test-zip does
}

func (f fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	// The auth scheme is case-insensitive (the client sends "APIKey").
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	wantScheme, wantCred, _ := strings.Cut(f.auth, " ")
	if f.auth != "" && (!strings.EqualFold(scheme, wantScheme) || cred != wantCred) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"type":"security_exception","reason":"unable to authenticate user [u] for REST request [/]"},"status":401}`))
		return
	}
	switch r.URL.Path {
	case "/":
		if f.noRoot {
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte(`{"error":"Incorrect HTTP method for uri [/] and method [GET], allowed: [DELETE]","status":405}`))
			return
		}
		_, _ = w.Write([]byte(`{"cluster_name":"fake","version":{"number":"8.19.21","build_flavor":"default"}}`))
	case "/_nodes/_local":
		_, _ = w.Write([]byte(`{"cluster_name":"fake","nodes":{"n1":{"version":"8.19.20","build_flavor":"default"}}}`))
	case "/_security/user/_has_privileges":
		if f.privileges == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"no handler found for uri [/_security/user/_has_privileges] and method [POST]"}`))
			return
		}
		_, _ = w.Write([]byte(f.privileges))
	default:
		http.NotFound(w, r)
	}
}

func checksByName(checks []Check) map[string]Check {
	m := map[string]Check{}
	for _, c := range checks {
		m[c.Name] = c
	}
	return m
}

func hostOf(t *testing.T, rawURL string) string {
	t.Helper()
	return strings.TrimPrefix(strings.TrimPrefix(rawURL, "http://"), "https://")
}

func TestOutputSecurityDisabled(t *testing.T) {
	srv := httptest.NewServer(fakeES{})
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Hosts = []string{hostOf(t, srv.URL)}
	checks := TestOutput(t.Context(), cfg)
	for _, c := range checks {
		if !c.OK {
			t.Errorf("check %q failed: %s", c.Name, c.Detail)
		}
	}
	m := checksByName(checks)
	if d := m["privileges: write "+EventsIndexPattern].Detail; d != "security disabled" {
		t.Errorf("write privilege detail %q", d)
	}
	if d := m["version"].Detail; d != "Elasticsearch 8.19.21" {
		t.Errorf("version detail %q", d)
	}
}

func TestOutputWrongCredentials(t *testing.T) {
	srv := httptest.NewServer(fakeES{auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("u:right"))})
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Hosts = []string{srv.URL}
	cfg.Username, cfg.Password = "u", "wrong"
	checks := TestOutput(t.Context(), cfg)
	if len(checks) == 0 || checks[0].OK || !strings.Contains(checks[0].Detail, "authentication failed (401)") {
		t.Fatalf("checks %+v: want a failed connection naming 401", checks)
	}
	cfg.Password = "right"
	if c := TestOutput(t.Context(), cfg)[0]; !c.OK {
		t.Errorf("right password: %+v", c)
	}
}

func TestOutputAPIKeyAndMissingPrivileges(t *testing.T) {
	key := "ApiKey " + base64.StdEncoding.EncodeToString([]byte("myid:mykey"))
	srv := httptest.NewServer(fakeES{auth: key, privileges: `{"username":"w","cluster":{"manage_index_templates":false},"index":{"logs-endpoint.events.*":{"create_doc":true,"auto_configure":false}}}`})
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Hosts = []string{srv.URL}
	cfg.APIKey = "myid:mykey"
	m := checksByName(TestOutput(t.Context(), cfg))
	if c := m["connection "+srv.URL+""]; !c.OK {
		// URLs() keeps the port httptest chose; the name is the URL.
		t.Errorf("connection check: %+v (all: %+v)", c, m)
	}
	w := m["privileges: write "+EventsIndexPattern]
	if w.OK || !strings.Contains(w.Detail, "auto_configure") || strings.Contains(w.Detail, "create_doc") {
		t.Errorf("write check %+v: want failure naming only auto_configure", w)
	}
	if c := m["privileges: manage index templates"]; c.OK {
		t.Errorf("template check %+v: want failure", c)
	}
}

func TestOutputConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv := httptest.NewServer(fakeES{})
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Hosts = []string{addr, srv.URL}
	checks := TestOutput(t.Context(), cfg)
	m := checksByName(checks)
	bad := m["connection http://"+addr]
	if bad.OK || !strings.Contains(bad.Detail, "connection refused") {
		t.Errorf("dead host check %+v", bad)
	}
	if !m["connection "+srv.URL].OK || !m["version"].OK {
		t.Errorf("live host should still pass: %+v", checks)
	}
}

func TestTLSVerification(t *testing.T) {
	srv := httptest.NewUnstartedServer(fakeES{})
	// Rejected handshakes are the point here; keep them out of the log.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	cert := srv.Certificate()
	sum := sha256.Sum256(cert.Raw)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	wrong := sha256.Sum256([]byte("not the cert"))
	for _, tc := range []struct {
		name       string
		ssl        SSLConfig
		ok         bool
		wantDetail string
	}{
		{"system roots only", SSLConfig{VerificationMode: VerifyFull}, false, "unknown authority"},
		{"certificate_authorities", SSLConfig{VerificationMode: VerifyFull, CertificateAuthorities: []string{caFile}}, true, ""},
		{"fingerprint", SSLConfig{VerificationMode: VerifyFull, CATrustedFingerprint: hex.EncodeToString(sum[:])}, true, ""},
		{"fingerprint upper case with colons", SSLConfig{CATrustedFingerprint: colonHex(sum[:])}, true, ""},
		{"wrong fingerprint", SSLConfig{VerificationMode: VerifyFull, CATrustedFingerprint: hex.EncodeToString(wrong[:])}, false, "ca_trusted_fingerprint"},
		{"verification none", SSLConfig{VerificationMode: VerifyNone}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Hosts = []string{srv.URL}
			cfg.SSL = tc.ssl
			c := TestOutput(t.Context(), cfg)[0]
			if c.OK != tc.ok || !strings.Contains(c.Detail, tc.wantDetail) {
				t.Errorf("got %+v, want ok=%v detail containing %q", c, tc.ok, tc.wantDetail)
			}
		})
	}
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = strings.ToUpper(hex.EncodeToString([]byte{x}))
	}
	return strings.Join(parts, ":")
}

func TestNewRejectsMissingCAFile(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SSL.CertificateAuthorities = []string{filepath.Join(t.TempDir(), "missing.pem")}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "ssl.certificate_authorities.0") {
		t.Errorf("err = %v, want one naming ssl.certificate_authorities.0", err)
	}
}

func TestOutputWithoutRootEndpoint(t *testing.T) {
	srv := httptest.NewServer(fakeES{noRoot: true})
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Hosts = []string{srv.URL}
	m := checksByName(TestOutput(t.Context(), cfg))
	if c := m["version"]; !c.OK || c.Detail != "Elasticsearch 8.19.20" {
		t.Errorf("version from _nodes/_local: %+v", c)
	}
}
