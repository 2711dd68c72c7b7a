package e2e

import (
	"encoding/json"
	"fmt"
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
	// correctedNative is correctedQuery without its value list, which
	// Elasticsearch's kql (8.19) cannot parse; the group in parentheses
	// means the same under either engine's precedence.
	correctedNative = `event.dataset : "endpoint.events.process" and event.module : "endpoint" and host.os.type : "windows" and (event.action : "start" or event.action : "end")`
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

	// Elasticsearch's own KQL engine on the same documents (package kql
	// documents both differences asserted here). The corrected query's value
	// list is a parse error there; written out as a group it finds what
	// procbeat finds. The seed's query means something else there: equal
	// precedence grouped from the right reads it as dataset and (module and
	// (os and (action : "start" or "end"))), confining the free-text "end"
	// to Windows process documents, so the Linux document is the whole
	// difference.
	t.Run("native kql", func(t *testing.T) {
		c.RequireKQL(t)
		if reason := c.KQLRefusal(t, processStream(ns), correctedQuery); !strings.Contains(reason, "missing ')' at 'or'") {
			t.Errorf("corrected query: Elasticsearch's kql refused it for another reason than the value list: %s", reason)
		}
		native := c.HitIDs(t, processStream(ns), estest.NativeKQL(correctedNative))
		if !slices.Equal(native, corrected) {
			onlyProcbeat, onlyNative := estest.Difference(corrected, native)
			t.Errorf("corrected query: procbeat and Elasticsearch's kql (%s) disagree: only procbeat %v, only kql %v", correctedNative, onlyProcbeat, onlyNative)
		}
		if procbeatGroup := ids(e.search(processStream(ns), translate(t, correctedNative))); !slices.Equal(procbeatGroup, corrected) {
			t.Errorf("procbeat: %s finds %v, the value list %v", correctedNative, procbeatGroup, corrected)
		}
		nativeSeed := c.HitIDs(t, processStream(ns), estest.NativeKQL(seedQuery))
		if !slices.Equal(nativeSeed, windowsStartEnd) {
			t.Errorf("seed query under Elasticsearch's kql: %v, want the Windows start and end documents %v", nativeSeed, windowsStartEnd)
		}
		onlyProcbeat, onlyNative := estest.Difference(got, nativeSeed)
		if !slices.Equal(onlyProcbeat, []string{linuxID}) || len(onlyNative) != 0 {
			t.Errorf("seed query: only procbeat (Kibana's precedence) %v, only kql %v; want exactly the Linux document %s on procbeat's side", onlyProcbeat, onlyNative, linuxID)
		}
	})

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
	t.Run("native kql", func(t *testing.T) {
		c.RequireKQL(t)
		if native := c.HitIDs(t, allStreams(ns), estest.NativeKQL(accessQuery)); !slices.Equal(native, access) {
			t.Errorf("%s under Elasticsearch's kql: %v, procbeat's translation %v", accessQuery, native, access)
		}
	})
	// Elastic's rules match call stack summaries literally, in Defend's
	// form: the sample's whoami opening lsass from unbacked code must be
	// found as they would look for it.
	t.Run("call stack summary", func(t *testing.T) {
		const summary = "ntdll.dll|kernelbase.dll|Unbacked"
		query := `process.thread.Ext.call_stack_summary : "` + summary + `"`
		want := idsWhere(docs, func(d doc) bool { return d.CallStackSummary == summary })
		if len(want) == 0 {
			t.Fatalf("no document of the sample has the call stack summary %s", summary)
		}
		if got := ids(e.search(allStreams(ns), translate(t, query))); !slices.Equal(got, want) {
			t.Errorf("%s: hits %v, want %v", query, got, want)
		}
		c.RequireKQL(t)
		if native := c.HitIDs(t, allStreams(ns), estest.NativeKQL(query)); !slices.Equal(native, want) {
			t.Errorf("%s under Elasticsearch's kql: %v, want %v", query, native, want)
		}
	})
}

// TestKQLNativePrecedence pins down where Elasticsearch's own KQL engine
// (x-pack-kql 8.19) reads and/or differently from Kibana, whose reading
// procbeat's translator follows: on the eight combinations of three
// keyword fields, each query is run both ways and each side must give its
// documented reading. Queries whose readings coincide must agree.
func TestKQLNativePrecedence(t *testing.T) {
	c := estest.Start(t)
	c.RequireKQL(t)
	e := es{t, c}
	index := "kql-precedence-" + c.Namespace(t)
	e.do(http.MethodPut, "/"+index, map[string]any{"mappings": map[string]any{"properties": map[string]any{
		"a": map[string]any{"type": "keyword"}, "b": map[string]any{"type": "keyword"}, "c": map[string]any{"type": "keyword"},
	}}})
	t.Cleanup(func() { e.try(http.MethodDelete, "/"+index, nil) })
	for i := range 8 {
		id := fmt.Sprintf("%d%d%d", i>>2&1, i>>1&1, i&1)
		e.do(http.MethodPut, "/"+index+"/_create/"+id, map[string]any{"a": id[0:1], "b": id[1:2], "c": id[2:3]})
	}
	e.refresh(index)
	fields := kql.MapFields(map[string]string{"a": "keyword", "b": "keyword", "c": "keyword"})
	// Each document's id is its a, b and c; the wanted sets are the truth
	// tables of the two readings.
	for _, q := range []struct{ query, kibana, native string }{
		// and before or (Kibana) vs equal precedence from the right.
		{"a:1 and b:1 or c:1", "001 011 101 110 111", "101 110 111"},
		{"a:1 and b:1 and c:0 or c:1", "001 011 101 110 111", "110 111"},
		// The same under both readings.
		{"a:1 or b:1 and c:1", "011 100 101 110 111", "011 100 101 110 111"},
		{"c:1 or a:1 and b:1", "001 011 101 110 111", "001 011 101 110 111"},
		{"(a:1 and b:1) or c:1", "001 011 101 110 111", "001 011 101 110 111"},
		// not binds tightest in both.
		{"not a:1 or b:1", "000 001 010 011 110 111", "000 001 010 011 110 111"},
		{"not a:1 and b:1", "010 011", "010 011"},
		{"(a:1 or a:0) and c:1", "001 011 101 111", "001 011 101 111"},
	} {
		dsl, err := kql.TranslateQuery(q.query, fields)
		if err != nil {
			t.Fatalf("translate %s: %v", q.query, err)
		}
		if got := strings.Join(c.HitIDs(t, index, json.RawMessage(dsl.String())), " "); got != q.kibana {
			t.Errorf("%s: procbeat (Kibana's reading) gives %s, want %s", q.query, got, q.kibana)
		}
		if got := strings.Join(c.HitIDs(t, index, estest.NativeKQL(q.query)), " "); got != q.native {
			t.Errorf("%s: Elasticsearch's kql gives %s, want %s", q.query, got, q.native)
		}
	}
	// A value list, Kibana's way to write "a is 1 or 0", is a parse error
	// for Elasticsearch's kql 8.19 (and and or alike).
	for _, q := range []string{"a:(1 or 0) and c:1", `a:("1" and "0")`} {
		if _, err := kql.TranslateQuery(q, fields); err != nil {
			t.Errorf("procbeat: %s: %v", q, err)
		}
		if reason := c.KQLRefusal(t, index, q); !strings.Contains(reason, "missing ')'") {
			t.Errorf("%s: Elasticsearch's kql refused it with %q, want missing ')'", q, reason)
		}
	}
	dsl, _ := kql.TranslateQuery("a:(1 or 0) and c:1", fields)
	if got := strings.Join(c.HitIDs(t, index, json.RawMessage(dsl.String())), " "); got != "001 011 101 111" {
		t.Errorf("a:(1 or 0) and c:1: procbeat gives %s", got)
	}
}
