package estest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/elastic/go-elasticsearch/v8"
)

func TestNativeKQLQuotes(t *testing.T) {
	var q struct {
		KQL struct {
			Query string `json:"query"`
		} `json:"kql"`
	}
	in := `a : "x\"y" and b : c\d`
	if err := json.Unmarshal(NativeKQL(in), &q); err != nil || q.KQL.Query != in {
		t.Errorf("NativeKQL(%q) = %s (%v)", in, NativeKQL(in), err)
	}
}

// TestRequireKQL: a cluster without the kql query skips the test, or
// fails it under CI; one with it passes.
func TestRequireKQL(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		body       string
		ci         string
		wantFailed bool
		wantSkip   bool
	}{
		{"plugin present", 200, `{"hits":{"total":{"value":0},"hits":[]}}`, "true", false, false},
		{"plugin absent", 400, `{"error":{"root_cause":[{"type":"parsing_exception","reason":"unknown query [kql]"}]},"status":400}`, "", false, true},
		{"plugin absent under CI", 400, `{"error":{"root_cause":[{"type":"parsing_exception","reason":"unknown query [kql]"}]},"status":400}`, "true", true, false},
		{"other failure", 500, `{"error":"boom"}`, "", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Elastic-Product", "Elasticsearch")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			client, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}, DisableRetry: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv("CI", tc.ci)
			t.Setenv(EnvSkip, "")
			c := &Cluster{URL: srv.URL, Client: client, Version: "8.19.21"}
			var r recorder
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); c.RequireKQL(&r) }()
			wg.Wait()
			if r.failed != tc.wantFailed || r.skipped != tc.wantSkip {
				t.Errorf("failed=%v skipped=%v (%s), want failed=%v skipped=%v", r.failed, r.skipped, r.msg, tc.wantFailed, tc.wantSkip)
			}
		})
	}
}
