package esclient

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The client talks only to Elasticsearch: a successful answer without the
// product header is refused, as the official client does.
func TestClientRefusesOtherProducts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"version":{"number":"2.11.0","distribution":"opensearch"}}`))
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Hosts = []string{hostOf(t, srv.URL)}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := do(t.Context(), c, http.MethodGet, "/", nil); !errors.Is(err, ErrNotElasticsearch) {
		t.Fatalf("GET / from a server without X-Elastic-Product: %v, want ErrNotElasticsearch", err)
	}
}

// Search posts the body to the index's _search with the configured
// credentials and returns the answer; an error status is an error naming
// the index and status.
func TestSearch(t *testing.T) {
	var gotPath, gotMethod, gotAuth, gotBody, gotUA string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotMethod, gotAuth, gotUA = r.URL.Path, r.Method, r.Header.Get("Authorization"), r.Header.Get("User-Agent")
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" { // compression_level > 0 by default
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Error(err)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		gotBody = string(b)
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		if strings.HasPrefix(r.URL.Path, "/missing") {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"type":"index_not_found_exception"},"status":404}` + "\n"))
			return
		}
		_, _ = w.Write([]byte(`{"hits":{"total":{"value":0},"hits":[]}}`))
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.Hosts = []string{hostOf(t, srv.URL)}
	cfg.APIKey = "id:key"
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Search(t.Context(), c, "logs-endpoint.events.*", []byte(`{"size":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"hits":{"total":{"value":0},"hits":[]}}` {
		t.Errorf("answer %s", raw)
	}
	if gotMethod != http.MethodPost || gotPath != "/logs-endpoint.events.*/_search" || gotBody != `{"size":1}` {
		t.Errorf("sent %s %s %s", gotMethod, gotPath, gotBody)
	}
	if gotAuth != "APIKey aWQ6a2V5" { // base64("id:key")
		t.Errorf("Authorization %q", gotAuth)
	}
	if !strings.HasPrefix(gotUA, "procbeat/") {
		t.Errorf("User-Agent %q", gotUA)
	}
	_, err = Search(t.Context(), c, "missing", []byte(`{}`))
	if err == nil || !strings.Contains(err.Error(), "search missing: 404 Not Found: {\"error\"") {
		t.Errorf("error answer: %v", err)
	}
}
