package estest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Elasticsearch's own KQL engine (the x-pack-kql plugin, which
// tools/esimage installs into the local image and the official image ships)
// lets tests check procbeat's translation against a second implementation.
// It is not Kibana's: see package kql's documentation for where the two read
// a query differently.

// NativeKQL is the Query DSL clause that hands query to Elasticsearch's own
// KQL engine.
func NativeKQL(query string) json.RawMessage {
	// Marshalling a string cannot fail.
	s, _ := json.Marshal(query)
	return json.RawMessage(`{"kql":{"query":` + string(s) + `}}`)
}

// RequireKQL returns when the cluster answers the kql query, and otherwise
// skips the test with instructions, or fails it under CI=true (where the
// image tools/esimage builds must be in use).
func (c *Cluster) RequireKQL(t testing.TB) {
	t.Helper()
	ok, err := c.hasKQL()
	switch {
	case err != nil:
		t.Fatalf("probing the kql query: %v", err)
	case !ok:
		unavailable(t, fmt.Sprintf("the cluster at %s (%s) does not know the kql query; rebuild the local image with tools/esimage/build.sh (it adds the x-pack-kql plugin) and set %s to the image it prints", c.URL, c.Version, EnvImage))
	}
}

// hasKQL asks the cluster to parse a kql query; a cluster without the
// plugin answers 400 "unknown query [kql]".
func (c *Cluster) hasKQL() (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body := fmt.Sprintf(`{"size":0,"query":%s}`, NativeKQL("procbeat.probe : *"))
	res, err := c.Client.Search(c.Client.Search.WithContext(ctx), c.Client.Search.WithBody(strings.NewReader(body)),
		c.Client.Search.WithAllowNoIndices(true))
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return false, err
	}
	switch {
	case res.StatusCode == http.StatusOK:
		return true, nil
	case res.StatusCode == http.StatusBadRequest && strings.Contains(string(raw), "unknown query [kql]"):
		return false, nil
	}
	return false, fmt.Errorf("%s: %.500s", res.Status(), raw)
}

// HitIDs runs query (a Query DSL clause) over target and returns the sorted
// _id of every hit, failing the test on an error or when there are more than
// the 10000 one request returns.
func (c *Cluster) HitIDs(t testing.TB, target string, query json.RawMessage) []string {
	t.Helper()
	status, raw := c.search(t, target, query)
	if status != http.StatusOK {
		t.Fatalf("search %s with %s: %d: %.1000s", target, query, status, raw)
	}
	var sr struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(raw, &sr); err != nil {
		t.Fatalf("search %s: %v", target, err)
	}
	if sr.Hits.Total.Value != len(sr.Hits.Hits) {
		t.Fatalf("search %s: %d hits, only %d returned", target, sr.Hits.Total.Value, len(sr.Hits.Hits))
	}
	ids := make([]string, len(sr.Hits.Hits))
	for i, h := range sr.Hits.Hits {
		ids[i] = h.ID
	}
	slices.Sort(ids)
	return ids
}

// KQLRefusal runs query through Elasticsearch's kql over target, expecting
// the engine to refuse it, and returns the reason it gives (the root cause).
// The test fails when the query is accepted or fails for another reason
// than a KQL parse error.
func (c *Cluster) KQLRefusal(t testing.TB, target, query string) string {
	t.Helper()
	status, raw := c.search(t, target, NativeKQL(query))
	var er struct {
		Error struct {
			RootCause []struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"root_cause"`
		} `json:"error"`
	}
	if status != http.StatusBadRequest || json.Unmarshal(raw, &er) != nil || len(er.Error.RootCause) == 0 ||
		er.Error.RootCause[0].Type != "kql_parsing_exception" {
		t.Fatalf("kql %s over %s: want a kql_parsing_exception, got %d: %.1000s", query, target, status, raw)
	}
	return er.Error.RootCause[0].Reason
}

func (c *Cluster) search(t testing.TB, target string, query json.RawMessage) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body := fmt.Sprintf(`{"size":10000,"track_total_hits":true,"_source":false,"query":%s}`, query)
	res, err := c.Client.Search(c.Client.Search.WithContext(ctx), c.Client.Search.WithIndex(target),
		c.Client.Search.WithBody(strings.NewReader(body)))
	if err != nil {
		t.Fatalf("search %s: %v", target, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("search %s: %v", target, err)
	}
	return res.StatusCode, raw
}

// Difference returns the sorted ids in a but not in b and those in b but not
// in a.
func Difference(a, b []string) (onlyA, onlyB []string) {
	for _, id := range a {
		if !slices.Contains(b, id) {
			onlyA = append(onlyA, id)
		}
	}
	for _, id := range b {
		if !slices.Contains(a, id) {
			onlyB = append(onlyB, id)
		}
	}
	slices.Sort(onlyA)
	slices.Sort(onlyB)
	return onlyA, onlyB
}
