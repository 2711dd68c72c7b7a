package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// upstream imitates the integ-test-zip node: no "GET /", the two APIs
// esfront reads, and basic auth when pass is set.
func upstream(t *testing.T, pass string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, p, ok := r.BasicAuth(); pass != "" && (!ok || p != pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="security"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"status":401}`)
			return
		}
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		switch r.URL.Path {
		case "/_nodes/_local":
			_, _ = io.WriteString(w, `{"cluster_name":"c1","nodes":{"n":{"name":"node-1","version":"8.19.21","build_flavor":"default","build_type":"zip","build_hash":"abc"}}}`)
		case "/_cluster/state/metadata":
			_, _ = io.WriteString(w, `{"metadata":{"cluster_uuid":"uuid-1"}}`)
		case "/":
			w.WriteHeader(http.StatusMethodNotAllowed)
		default:
			_, _ = io.WriteString(w, "passed:"+r.Method+" "+r.URL.RequestURI())
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func front(t *testing.T, up *httptest.Server) *httptest.Server {
	t.Helper()
	u, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newHandler(u, http.DefaultTransport))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestRootIsSynthesised(t *testing.T) {
	f := front(t, upstream(t, ""))
	req, _ := http.NewRequest(http.MethodGet, f.URL+"/", nil)
	res, body := get(t, req)
	if res.StatusCode != http.StatusOK || res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Fatalf("status %d headers %v", res.StatusCode, res.Header)
	}
	for _, want := range []string{`"number": "8.19.21"`, `"cluster_name": "c1"`, `"cluster_uuid": "uuid-1"`, `"name": "node-1"`, `"build_flavor": "default"`} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %s:\n%s", want, body)
		}
	}
}

func TestOtherRequestsPassThrough(t *testing.T) {
	f := front(t, upstream(t, ""))
	req, _ := http.NewRequest(http.MethodPut, f.URL+"/_index_template/x?pretty", strings.NewReader("{}"))
	_, body := get(t, req)
	if body != "passed:PUT /_index_template/x?pretty" {
		t.Errorf("got %q", body)
	}
}

func TestRootKeepsAuthentication(t *testing.T) {
	f := front(t, upstream(t, "secret"))
	req, _ := http.NewRequest(http.MethodGet, f.URL+"/", nil)
	if res, _ := get(t, req); res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("without credentials: %d %v", res.StatusCode, res.Header)
	}
	req.SetBasicAuth("elastic", "secret")
	if res, _ := get(t, req); res.StatusCode != http.StatusOK {
		t.Errorf("with credentials: %d", res.StatusCode)
	}
}

func TestUpstreamDown(t *testing.T) {
	up := upstream(t, "")
	f := front(t, up)
	up.Close()
	req, _ := http.NewRequest(http.MethodGet, f.URL+"/", nil)
	if res, _ := get(t, req); res.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502 while Elasticsearch is not up", res.StatusCode)
	}
}
