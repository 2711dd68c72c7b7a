package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/procbeat/procbeat/testing/certs"
)

// fakeCluster answers what `procbeat test output` asks, as an
// Elasticsearch with security disabled would.
func fakeCluster(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/":
		_, _ = io.WriteString(w, `{"cluster_name":"fake","version":{"number":"8.19.21","build_flavor":"default"}}`)
	default:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"no handler found for uri [`+r.URL.Path+`] and method [`+r.Method+`]"}`)
	}
}

// The ssl.* options reach the connection from procbeat.yml and -E: a
// cluster that requires a client certificate and presents one for
// another name (es.example) than the address used (127.0.0.1).
func TestTLSOptionsFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	ca := certs.NewCA(t, dir, "ca")
	leaf := ca.Server(t, dir, "es", certs.Names{CommonName: "es.example", DNS: []string{"es.example"}})
	client := ca.Client(t, dir, "procbeat", certs.Names{CommonName: "procbeat"})
	pair, err := tls.X509KeyPair(leaf.Chain(ca), leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(fakeCluster))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()

	base := "output.elasticsearch:\n  hosts: [\"" + srv.URL + "\"]\n  ssl:\n    certificate_authorities: [\"" + ca.File + "\"]\n"
	withClient := base + "    certificate: \"" + client.CertFile + "\"\n    key: \"" + client.KeyFile + "\"\n"
	for _, tc := range []struct {
		name, yml  string
		args       []string
		ok         bool
		wantStdout string
		wantStderr string
		notStderr  string
	}{
		{name: "certificate mode accepts the other name, client certificate sent", yml: withClient,
			args: []string{"-E", "output.elasticsearch.ssl.verification_mode=certificate"}, ok: true, wantStdout: "connection " + srv.URL + "... ok", notStderr: "verifications disabled"},
		{name: "full refuses the other name", yml: withClient, wantStdout: "does not match the host name"},
		{name: "strict refuses the other name", yml: withClient,
			args: []string{"-E", "output.elasticsearch.ssl.verification_mode=strict"}, wantStdout: "does not match the host name"},
		{name: "no client certificate", yml: base,
			args: []string{"-E", "output.elasticsearch.ssl.verification_mode=certificate"}, wantStdout: "requires a client certificate"},
		{name: "none connects and warns", yml: withClient,
			args: []string{"-E", "output.elasticsearch.ssl.verification_mode=none"}, ok: true,
			wantStdout: "tls... ok: WARN", wantStderr: "SSL/TLS verifications disabled."},
		{name: "unknown mode names the key", yml: withClient,
			args: []string{"-E", "output.elasticsearch.ssl.verification_mode=partial"}, wantStderr: "output.elasticsearch.ssl.verification_mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"test", "output", "-e", "-c", writeConfig(t, tc.yml)}, tc.args...)
			out, stderr, code := run(t, args...)
			if (code == 0) != tc.ok || !strings.Contains(out, tc.wantStdout) || !strings.Contains(stderr, tc.wantStderr) ||
				(tc.notStderr != "" && strings.Contains(stderr, tc.notStderr)) {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant ok=%v, stdout with %q, stderr with %q", code, out, stderr, tc.ok, tc.wantStdout, tc.wantStderr)
			}
		})
	}
}

// proxy_url from the configuration carries the requests, with its
// credentials, and is never printed with its password.
func TestProxyURLFromTheCommandLine(t *testing.T) {
	var mu sync.Mutex
	var seen, auth []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.String())
		auth = append(auth, r.Header.Get("Proxy-Authorization"))
		mu.Unlock()
		fakeCluster(w, r)
	}))
	defer proxy.Close()
	proxyURL := "http://pu:hunter2-proxy@" + strings.TrimPrefix(proxy.URL, "http://")
	out, stderr, code := run(t, "test", "output", "-E", "output.elasticsearch.hosts=[\"http://es.invalid:9200\"]",
		"-E", "output.elasticsearch.proxy_url="+proxyURL)
	mu.Lock()
	defer mu.Unlock()
	if code != 0 || len(seen) == 0 || seen[0] != "GET http://es.invalid:9200/" {
		t.Fatalf("exit %d, proxy saw %v\n%s%s", code, seen, out, stderr)
	}
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("pu:hunter2-proxy")); auth[0] != want {
		t.Errorf("Proxy-Authorization %q, want %q", auth[0], want)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	for _, tc := range []struct {
		args    []string
		ok      bool
		wantOut string
	}{
		{[]string{"test", "output", "-E", "output.elasticsearch.proxy_url=http://pu:hunter2-proxy@" + dead}, false, "cannot go through the proxy"},
		{[]string{"test", "config", "-E", "output.elasticsearch.proxy_url=ftp://pu:hunter2-proxy@" + dead}, false, "output.elasticsearch.proxy_url"},
		{[]string{"export", "config", "-E", "output.elasticsearch.proxy_url=http://pu:hunter2-proxy@" + dead}, true, "proxy_url: http://pu:xxxxx@"},
	} {
		out, stderr, code := run(t, append(tc.args, "-E", "output.elasticsearch.hosts=[\"http://127.0.0.1:9\"]")...)
		if strings.Contains(out+stderr, "hunter2") || (code == 0) != tc.ok || !strings.Contains(out+stderr, tc.wantOut) {
			t.Errorf("%v: exit %d, want ok=%v, %q, no password:\n%s%s", tc.args[:2], code, tc.ok, tc.wantOut, out, stderr)
		}
	}
}

// cloud.id and cloud.auth, as Beats take them, become the Elasticsearch
// output's host and credentials; the password is masked in export config.
func TestCloudIDFromTheCommandLine(t *testing.T) {
	id := "incident-42:" + base64.StdEncoding.EncodeToString([]byte("eastus2.azure.elastic-cloud.com$4c6f2a91d0$b8e3"))
	out, stderr, code := run(t, "export", "config", "-E", "cloud.id="+id, "-E", "cloud.auth=elastic:hunter2-cloud")
	if code != 0 || !strings.Contains(out, "https://4c6f2a91d0.eastus2.azure.elastic-cloud.com:443") || strings.Contains(out+stderr, "hunter2") {
		t.Errorf("exit %d:\n%s%s", code, out, stderr)
	}
	_, stderr, code = run(t, "test", "config", "-E", "cloud.id=not-an-id")
	if code == 0 || !strings.Contains(stderr, "cloud.id") {
		t.Errorf("bad cloud.id: exit %d, %q", code, stderr)
	}
	_, stderr, code = run(t, "test", "config", "-E", "cloud.id="+id, "-E", "cloud.auth=elastic")
	if code == 0 || !strings.Contains(stderr, "cloud.auth") {
		t.Errorf("bad cloud.auth: exit %d, %q", code, stderr)
	}
}
