package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/esclient"
	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/fields/template"
	"github.com/procbeat/procbeat/testing/estest"
)

// request sends one request and decodes the JSON answer.
func request(t *testing.T, c *estest.Cluster, method, path string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := newRequest(method, path, rd)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Client.Perform(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return m
}

// capabilities is what setup detects on this cluster.
func capabilities(t *testing.T, c *estest.Cluster) template.Capabilities {
	t.Helper()
	ctx := context.Background()
	found, err := esclient.DetectCapabilities(ctx, c.Client)
	if err != nil {
		t.Fatal(err)
	}
	ul, err := esclient.FieldTypeSupported(ctx, c.Client, "unsigned_long")
	if err != nil {
		t.Fatal(err)
	}
	return template.Capabilities{Wildcard: found.Wildcard, ConstantKeyword: found.ConstantKeyword, MatchOnlyText: found.MatchOnlyText, UnsignedLong: ul}
}

func TestSetupIsIdempotent(t *testing.T) {
	c := estest.Start(t)
	out, stderr, err := procbeat(t, c, "setup")
	if err != nil {
		t.Fatalf("setup: %v\n%s\n%s", err, out, stderr)
	}
	for _, name := range []string{"logs-endpoint.events.process@procbeat-mappings", "procbeat-logs-endpoint.events.process", "procbeat-logs-endpoint.events.api"} {
		if !strings.Contains(out, name+": ") {
			t.Errorf("setup did not report %s:\n%s", name, out)
		}
	}
	caps := capabilities(t, c)
	if !caps.Wildcard && !strings.Contains(stderr, "warning: field process.command_line: cluster lacks wildcard, mapped as keyword") {
		t.Errorf("no downgrade warning on a cluster without wildcard:\n%s", stderr)
	}
	out, _, err = procbeat(t, c, "setup")
	if err != nil || !strings.Contains(out, "nothing changed") || strings.Contains(out, ": created") || strings.Contains(out, ": updated") {
		t.Fatalf("second setup changed something (err %v):\n%s", err, out)
	}
}

// TestDataStreamMappingEqualsCatalog indexes a document built from the
// catalog's examples into each data stream: Elasticsearch makes a data
// stream (not an index) and its backing index maps exactly the generated
// mapping.
func TestDataStreamMappingEqualsCatalog(t *testing.T) {
	c := estest.Start(t)
	if _, stderr, err := procbeat(t, c, "setup"); err != nil {
		t.Fatalf("setup: %v\n%s", err, stderr)
	}
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	caps := capabilities(t, c)
	ns := c.Namespace(t)
	for i := range cat.Datasets {
		ds := &cat.Datasets[i]
		doc, err := cat.ExampleDocument(ds.Name)
		if err != nil {
			t.Fatal(err)
		}
		doc["data_stream"] = map[string]any{"type": "logs", "dataset": ds.Name, "namespace": ns}
		stream := "logs-" + ds.Name + "-" + ns
		request(t, c, "PUT", "/"+stream+"/_create/example-1?refresh=true", doc)

		res := request(t, c, "GET", "/_resolve/index/"+stream, nil)
		streams, _ := res["data_streams"].([]any)
		indices, _ := res["indices"].([]any)
		if len(streams) != 1 || len(indices) != 0 {
			t.Fatalf("%s: resolve says data streams %v, indices %v", stream, streams, indices)
		}
		backing := streams[0].(map[string]any)["backing_indices"].([]any)[0].(string)

		got := request(t, c, "GET", "/"+backing+"/_mapping", nil)[backing].(map[string]any)["mappings"].(map[string]any)
		want, _, _, err := template.Mappings(cat, ds, caps)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := json.Marshal(want["properties"])
		var wantProps map[string]any
		json.Unmarshal(wantJSON, &wantProps)
		checkKeyValueFields(t, stream, cat, ds, got["properties"].(map[string]any), wantProps)
		if !reflect.DeepEqual(got["properties"], wantProps) {
			diffMappings(t, stream, "", got["properties"].(map[string]any), wantProps)
		}
		if got["dynamic"] != "false" && got["dynamic"] != false {
			t.Errorf("%s: dynamic is %v", stream, got["dynamic"])
		}
	}
}

// checkKeyValueFields checks the free-key objects (labels): the example's
// keys were mapped by the dynamic template as object_type, and nothing
// else; it then leaves them out of the exact comparison.
func checkKeyValueFields(t *testing.T, stream string, cat *fields.Catalog, ds *fields.Dataset, got, want map[string]any) {
	t.Helper()
	for _, f := range cat.DatasetFields(ds) {
		if !f.IsKeyValue() {
			continue
		}
		gm, _ := got[f.Name].(map[string]any)
		props, _ := gm["properties"].(map[string]any)
		var example map[string]any
		json.Unmarshal([]byte(f.Example), &example)
		if len(props) != len(example) {
			t.Errorf("%s: %s mapped %v, want the example's keys %v", stream, f.Name, props, example)
		}
		for k := range example {
			if m, _ := props[k].(map[string]any); m["type"] != f.ObjectType {
				t.Errorf("%s: %s.%s mapped as %v, want %s", stream, f.Name, k, props[k], f.ObjectType)
			}
		}
		delete(got, f.Name)
		delete(want, f.Name)
	}
}

// diffMappings names each field whose mapping differs.
func diffMappings(t *testing.T, stream, prefix string, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		name := strings.TrimPrefix(prefix+"."+k, ".")
		if !ok {
			t.Errorf("%s: %s missing from the backing index", stream, name)
			continue
		}
		wm, _ := w.(map[string]any)
		gm, _ := g.(map[string]any)
		if wp, ok := wm["properties"].(map[string]any); ok {
			gp, _ := gm["properties"].(map[string]any)
			diffMappings(t, stream, name, gp, wp)
			continue
		}
		if !reflect.DeepEqual(gm, wm) {
			t.Errorf("%s: %s mapped as %v, generated %v", stream, name, gm, wm)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %s added to the backing index but not generated", stream, strings.TrimPrefix(prefix+"."+k, "."))
		}
	}
}

// TestUnknownFieldStoredNotMapped: dynamic false keeps a stray field in
// _source but out of the mapping.
func TestUnknownFieldStoredNotMapped(t *testing.T) {
	c := estest.Start(t)
	if _, stderr, err := procbeat(t, c, "setup"); err != nil {
		t.Fatalf("setup: %v\n%s", err, stderr)
	}
	ns := c.Namespace(t)
	stream := "logs-endpoint.events.process-" + ns
	doc := map[string]any{"@timestamp": "2024-03-05T14:22:31.123Z", "process": map[string]any{"pid": 4, "not_in_catalog": "kept"}, "stray": map[string]any{"field": 1}}
	request(t, c, "PUT", "/"+stream+"/_create/stray-1?refresh=true", doc)
	src := request(t, c, "GET", "/"+stream+"/_search?q=_id:stray-1", nil)["hits"].(map[string]any)["hits"].([]any)[0].(map[string]any)["_source"].(map[string]any)
	if src["process"].(map[string]any)["not_in_catalog"] != "kept" {
		t.Errorf("stray field not stored: %v", src)
	}
	m := request(t, c, "GET", "/"+stream+"/_mapping/field/process.not_in_catalog,stray.field", nil)
	for idx, v := range m {
		if fm, _ := v.(map[string]any)["mappings"].(map[string]any); len(fm) != 0 {
			t.Errorf("%s mapped stray fields: %v", idx, fm)
		}
	}
}

func TestTestOutput(t *testing.T) {
	c := estest.Start(t)
	out, _, err := procbeat(t, c, "test", "output")
	if err != nil || strings.Contains(out, "ERROR") || !strings.Contains(out, "connection "+c.URL) {
		t.Fatalf("test output against a good cluster: %v\n%s", err, out)
	}
	// A host where nothing listens.
	out, _, err = run(t, "test", "output", "-c", emptyConfig(t), "-E", `output.elasticsearch.hosts=["http://127.0.0.1:1"]`)
	if err == nil || !strings.Contains(out, "ERROR") || !strings.Contains(out, "refused") {
		t.Fatalf("test output against a closed port: %v\n%s", err, out)
	}
}

// TestReplayAndQuery ships the bundled sample with the CLI and finds it
// again with `procbeat query` (KQL translated by procbeat). Every query also
// runs through Elasticsearch's own KQL engine on the same documents, and the
// hit sets must be equal; where that engine cannot parse the query (a value
// list, see package kql), the refusal is asserted and the query is compared
// in its written-out form, which means the same under either engine.
func TestReplayAndQuery(t *testing.T) {
	c := estest.Start(t)
	if _, stderr, err := procbeat(t, c, "setup"); err != nil {
		t.Fatalf("setup: %v\n%s", err, stderr)
	}
	ns := c.Namespace(t)
	_, stderr, err := procbeat(t, c, "replay", "-E", "procbeat.namespace="+ns, "../../testdata/sample/sample.xml")
	if err != nil || !strings.Contains(stderr, "documents: 14 (start 8, end 4, access 2)") {
		t.Fatalf("replay: %v\n%s", err, stderr)
	}
	target := "logs-endpoint.events.*-" + ns
	request(t, c, "POST", "/"+target+"/_refresh", nil)
	queries := []struct {
		query, native string // native: "" when the same
		count         int
	}{
		{`event.action : ("start" or "end") and host.os.type : "windows"`, `(event.action : "start" or event.action : "end") and host.os.type : "windows"`, 12},
		{`event.code : "10" and winlog.event_data.GrantedAccess : *`, "", 2},
		{`process.name : "whoami.exe" and process.Ext.ancestry : *`, "", 2},
		{`process.parent.name : cmd.exe and not user.id : "S-1-5-18"`, "", 2}, // whoami start and end
		{`process.command_line.caseless : *printui* and event.action : "start"`, "", 1},
	}
	for _, q := range queries {
		out, stderr, err := procbeat(t, c, "query", "--size", "10000", "--index", target, q.query)
		if want := fmt.Sprintf("count: %d\n", q.count); err != nil || !strings.HasPrefix(out, want) {
			t.Errorf("%s: %v %s\n%s", q.query, err, stderr, firstLine(out))
			continue
		}
		t.Run("native kql", func(t *testing.T) {
			c.RequireKQL(t)
			got := hitIDs(out)
			native := q.query
			if q.native != "" {
				if reason := c.KQLRefusal(t, target, q.query); !strings.Contains(reason, "missing ')'") {
					t.Errorf("%s: Elasticsearch's kql refused it for another reason than the value list: %s", q.query, reason)
				}
				native = q.native
			}
			want := c.HitIDs(t, target, estest.NativeKQL(native))
			if onlyProcbeat, onlyNative := estest.Difference(got, want); len(got) != q.count || len(onlyProcbeat)+len(onlyNative) > 0 {
				t.Errorf("%s: procbeat query found %d, Elasticsearch's kql (%s) %d: only procbeat %v, only kql %v", q.query, len(got), native, len(want), onlyProcbeat, onlyNative)
			}
		})
	}
}

// hitIDs reads the _id of every hit `procbeat query` printed (one line per
// hit after the count: index, id, source), sorted.
func hitIDs(out string) []string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var ids []string
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) >= 2 {
			ids = append(ids, f[1])
		}
	}
	slices.Sort(ids)
	return ids
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
