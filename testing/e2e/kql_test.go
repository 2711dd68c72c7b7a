package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/kql"
	"github.com/procbeat/procbeat/testing/estest"
)

// The dataset's query as it should be written, and as the seed wrote it:
// without parentheses, KQL's "and" binds tighter than "or", so the seed's
// query means (... and event.action : "start") or "end", the last part a
// free-text search for "end" in every field of every document.
const (
	correctedQuery = `event.dataset : "endpoint.events.process" and event.module : "endpoint" and host.os.type : "windows" and event.action : ("start" or "end")`
	seedQuery      = `event.dataset : "endpoint.events.process" and event.module : "endpoint" and host.os.type : "windows" and event.action : "start" or "end"`
	accessQuery    = `event.code : "10" and winlog.event_data.GrantedAccess : *`
)

// translate turns KQL into the Query DSL clause Kibana would send, with
// procbeat's catalog in the role of the data view.
func translate(t *testing.T, query string) json.RawMessage {
	t.Helper()
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	q, err := kql.TranslateQuery(query, kql.MapFields(cat.Types()))
	if err != nil {
		t.Fatalf("translate %s: %v", query, err)
	}
	return json.RawMessage(q.String())
}

func ids(hits []hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	slices.Sort(out)
	return out
}

func idsWhere(docs []doc, keep func(doc) bool) []string {
	var out []string
	for _, d := range docs {
		if keep(d) {
			out = append(out, d.ID)
		}
	}
	slices.Sort(out)
	return out
}

// TestKQLPrecedenceTrap runs the corrected and the seed's query through
// procbeat's translator against the replayed sample plus one Linux
// document that mentions "the end".
func TestKQLPrecedenceTrap(t *testing.T) {
	c := estest.Start(t)
	e := es{t, c}
	ns := c.Namespace(t)
	setup(t, c)
	sample := samplePath(t)
	docs := localDocs(t, sample)
	replay(t, c, ns, sample)

	// Same dataset and module as procbeat's documents, so only the
	// host.os.type clause, or its absence, tells it apart.
	const linuxID = "linux-the-end"
	e.do(http.MethodPut, "/"+processStream(ns)+"/_create/"+linuxID+"?refresh=true", map[string]any{
		"@timestamp": "2024-03-05T15:00:00Z",
		"event":      map[string]any{"dataset": "endpoint.events.process", "module": "endpoint", "action": "exec", "kind": "event"},
		"host":       map[string]any{"name": "web-01", "os": map[string]any{"type": "linux", "family": "debian"}},
		"message":    "the end",
	})
	e.refresh(processStream(ns))

	windowsStartEnd := idsWhere(docs, func(d doc) bool {
		return d.HostOSType == "windows" && (d.Action == "start" || d.Action == "end")
	})
	if len(windowsStartEnd) == 0 {
		t.Fatal("the sample yields no Windows start or end documents: the test proves nothing")
	}

	corrected := ids(e.search(processStream(ns), translate(t, correctedQuery)))
	if !slices.Equal(corrected, windowsStartEnd) {
		t.Errorf("corrected query: %d hits %v\nwant the %d Windows start and end documents %v", len(corrected), corrected, len(windowsStartEnd), windowsStartEnd)
	}

	got := ids(e.search(processStream(ns), translate(t, seedQuery)))
	if !slices.Contains(got, linuxID) {
		t.Errorf("seed query: hits %v do not include the Linux document %s: the precedence trap did not show", got, linuxID)
	}
	for _, id := range idsWhere(docs, func(d doc) bool { return d.Action == "start" }) {
		if !slices.Contains(got, id) {
			t.Errorf("seed query: start document %s missing", id)
		}
	}
	t.Logf("corrected query: %d hits; seed query: %d hits", len(corrected), len(got))

	// The CLI prints the same translation a user would paste into Dev Tools.
	out, _ := procbeat(t, "kql", "translate", correctedQuery)
	var printed struct {
		Query json.RawMessage `json:"query"`
	}
	if err := json.Unmarshal([]byte(out), &printed); err != nil {
		t.Fatalf("procbeat kql translate: %v: %s", err, out)
	}
	if !jsonEqual(t, printed.Query, translate(t, correctedQuery)) {
		t.Errorf("procbeat kql translate printed %s, kql.TranslateQuery gives %s", printed.Query, translate(t, correctedQuery))
	}
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// TestAccessEvents: Sysmon event 10 lands in the api data stream, and the
// process-access query finds exactly those documents across both streams.
func TestAccessEvents(t *testing.T) {
	c := estest.Start(t)
	e := es{t, c}
	ns := c.Namespace(t)
	setup(t, c)
	sample := samplePath(t)
	want := countXML(t, sample)
	docs := localDocs(t, sample)
	replay(t, c, ns, sample)
	e.refresh(allStreams(ns))

	access := idsWhere(docs, func(d doc) bool { return d.Dataset == "endpoint.events.api" })
	if len(access) != want.access || want.access == 0 {
		t.Fatalf("procbeat made %d api documents of %d Sysmon event 10 records", len(access), want.access)
	}
	if n := e.count(apiStream(ns), nil); n != want.access {
		t.Errorf("%s holds %d documents, want %d", apiStream(ns), n, want.access)
	}
	hits := e.search(allStreams(ns), translate(t, accessQuery))
	if got := ids(hits); !slices.Equal(got, access) {
		t.Errorf("%s over %s: hits %v, want the access documents %v", accessQuery, allStreams(ns), got, access)
	}
	for _, h := range hits {
		if !strings.HasPrefix(h.Index, ".ds-"+apiStream(ns)+"-") {
			t.Errorf("access document %s is in %s, want a backing index of %s", h.ID, h.Index, apiStream(ns))
		}
	}
}
