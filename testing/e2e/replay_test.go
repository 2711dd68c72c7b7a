package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/esclient"
	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/fields/template"
	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/testing/estest"
)

// corpusFiles are corpus files with distinct records and process events of
// every kind, EVTX and JSON, small enough to keep the suite quick.
var corpusFiles = []string{
	"omerbenamram-evtx/samples/sysmon.evtx",
	"Velocidex-evtx/testdata/Security.evtx",
	"python-evtx/tests/data/issue_43.evtx",
	"EVTX-to-MITRE-Attack/TA0005-Defense Evasion/T1070.001-Clear Windows event logs/ID4688-Clear event log attempt (native).evtx",
	"Security-Datasets/datasets/atomic/windows/credential_access/host/cmd_psexec_lsa_secrets_dump_2020-10-1903305471.json",
}

// corpusInput returns the corpus files present and their expected counts
// from MANIFEST.tsv; none when the corpus is absent.
func corpusInput(t *testing.T) ([]string, kinds) {
	t.Helper()
	dir, ok := corpus.Dir()
	if !ok {
		if corpus.InCI() {
			t.Fatal("../shared/corpus is absent (CI=true: corpus tests must run)")
		}
		t.Log("../shared/corpus is absent: replaying the sample only")
		return nil, kinds{}
	}
	man, err := corpus.Manifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	var k kinds
	for _, rel := range corpusFiles {
		e, ok := man[rel]
		if !ok {
			t.Fatalf("%s is not in MANIFEST.tsv", rel)
		}
		files = append(files, filepath.Join(dir, rel))
		k.start += e.SysmonEID1 + e.Sec4688
		k.end += e.SysmonEID5 + e.Sec4689
		if strings.HasPrefix(rel, "Security-Datasets/") {
			// OTRF recordings log each process by Sysmon and Security:
			// every 4688 and 4689 merges into its Sysmon twin's document
			// (procbeat.merge_sources; beater's TestMergeCorpusTwoLogsAnyOrder).
			k.start -= e.Sec4688
			k.end -= e.Sec4689
		}
		k.access += e.SysmonEID10
	}
	return files, k
}

// clusterCapabilities asks the cluster which field types it has, as setup
// does, so that the expected mapping is the one setup should install.
func clusterCapabilities(t *testing.T, c *estest.Cluster) template.Capabilities {
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
	return template.Capabilities{Wildcard: found.Wildcard, ConstantKeyword: found.ConstantKeyword,
		MatchOnlyText: found.MatchOnlyText, UnsignedLong: ul}
}

// TestSetupThenReplay: setup, replay the sample (and corpus files), then
// the data streams exist, their backing indices carry exactly the generated
// mapping, no document holds a field outside it, and the counts are right.
func TestSetupThenReplay(t *testing.T) {
	c := estest.Start(t)
	e := es{t, c}
	ns := c.Namespace(t)
	setup(t, c)

	sample := samplePath(t)
	want := countXML(t, sample)
	files, fromCorpus := corpusInput(t)
	want.start += fromCorpus.start
	want.end += fromCorpus.end
	want.access += fromCorpus.access
	// omerbenamram's sysmon.evtx is a dirty log: the eight slots after
	// its last chunk hold no chunk. They lie past the chunks its header
	// declares too: slack, not errors, and every file is read whole.
	_, summary := replayExit(t, c, ns, 0, append([]string{sample}, files...)...)
	wantFailed := "errors: none\n"
	t.Logf("replay of %d files:\n%s", 1+len(files), tail(summary, 6))
	if !strings.Contains(summary, wantFailed) {
		t.Errorf("summary does not list %q:\n%s", wantFailed, summary)
	}

	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	caps := clusterCapabilities(t, c)
	for _, ds := range cat.Datasets {
		stream := "logs-" + ds.Name + "-" + ns
		t.Run(ds.Name, func(t *testing.T) {
			e := es{t, c}
			backing := resolveDataStream(e, stream)
			wantMap, _, _, err := template.Mappings(cat, &ds, caps)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]struct {
				Mappings map[string]any `json:"mappings"`
			}
			e.decode(e.do(http.MethodGet, "/"+backing+"/_mapping", nil), &got)
			gotMap := got[backing].Mappings
			dropObjectType(gotMap["properties"])
			compareMappings(t, normalise(wantMap), gotMap)
			e.refresh(stream)
			checkSourcesMapped(t, e, stream, cat, &ds)
		})
	}

	e.refresh(allStreams(ns))
	for _, k := range []struct {
		stream, action string
		want           int
	}{
		{processStream(ns), "start", want.start},
		{processStream(ns), "end", want.end},
	} {
		if got := e.count(k.stream, term("event.action", k.action)); got != k.want {
			t.Errorf("%s: %d %s documents, want %d", k.stream, got, k.action, k.want)
		}
	}
	if got := e.count(apiStream(ns), nil); got != want.access {
		t.Errorf("%s: %d documents, want %d access events", apiStream(ns), got, want.access)
	}
	if got, all := e.count(processStream(ns), nil), want.start+want.end; got != all {
		t.Errorf("%s: %d documents in all, want %d", processStream(ns), got, all)
	}
	if dup := e.duplicateEventIDs(allStreams(ns)); len(dup) > 0 {
		t.Errorf("event.id values held by several documents: %v", dup)
	}
}

// resolveDataStream checks that name is a data stream (not an index or an
// alias) with a single backing index, and returns that index.
func resolveDataStream(e es, name string) string {
	e.t.Helper()
	var res struct {
		Indices []struct {
			Name string `json:"name"`
		} `json:"indices"`
		DataStreams []struct {
			Name           string   `json:"name"`
			BackingIndices []string `json:"backing_indices"`
			TimestampField string   `json:"timestamp_field"`
		} `json:"data_streams"`
	}
	e.decode(e.do(http.MethodGet, "/_resolve/index/"+name+"?expand_wildcards=all", nil), &res)
	for _, ix := range res.Indices {
		if ix.Name == name {
			e.t.Fatalf("%s is a plain index, not a data stream", name)
		}
	}
	if len(res.DataStreams) != 1 || res.DataStreams[0].Name != name {
		e.t.Fatalf("_resolve/index/%s: data streams %+v, want exactly %s", name, res.DataStreams, name)
	}
	ds := res.DataStreams[0]
	if ds.TimestampField != "@timestamp" || len(ds.BackingIndices) != 1 {
		e.t.Fatalf("data stream %s: timestamp field %q, backing indices %v; want @timestamp and one index", name, ds.TimestampField, ds.BackingIndices)
	}
	return ds.BackingIndices[0]
}

// normalise turns a generated mapping into what GET _mapping answers for
// it: JSON types (numbers as float64), and object fields without their
// implied "type":"object".
func normalise(m map[string]any) map[string]any {
	raw, err := json.Marshal(m)
	if err != nil {
		panic(err) // the generator's own output always marshals
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(err)
	}
	dropObjectType(out["properties"])
	return out
}

// dropObjectType canonicalises a mapping for comparison: "type": "object"
// is implied (Elasticsearch shows it only for objects without properties),
// and Elasticsearch answers a sub-object's "dynamic": true as the string
// "true".
func dropObjectType(v any) {
	props, _ := v.(map[string]any)
	for _, f := range props {
		fm, _ := f.(map[string]any)
		if fm["type"] == "object" {
			delete(fm, "type")
		}
		if d, ok := fm["dynamic"].(bool); ok {
			fm["dynamic"] = fmt.Sprint(d)
		}
		if p, ok := fm["properties"].(map[string]any); ok {
			if len(p) == 0 {
				delete(fm, "properties")
			}
			dropObjectType(p)
		}
	}
}

// compareMappings reports every field whose mapping differs, is missing
// from the index or was not generated.
func compareMappings(t *testing.T, want, got map[string]any) {
	t.Helper()
	if fmt.Sprint(got["dynamic"]) != "false" {
		t.Errorf("dynamic is %v, want false: unknown fields would be mapped on the fly", got["dynamic"])
	}
	wantLeaves, gotLeaves := map[string]string{}, map[string]string{}
	flattenMapping("", want["properties"], wantLeaves)
	flattenMapping("", got["properties"], gotLeaves)
	var diffs []string
	for name, w := range wantLeaves {
		g, ok := gotLeaves[name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: missing from the index (want %s)", name, w))
		case g != w:
			diffs = append(diffs, fmt.Sprintf("%s: index has %s, want %s", name, g, w))
		}
	}
	for name, g := range gotLeaves {
		if _, ok := wantLeaves[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: in the index (%s) but not generated", name, g))
		}
	}
	sort.Strings(diffs)
	for _, d := range diffs {
		t.Error(d)
	}
	if len(wantLeaves) == 0 {
		t.Error("generated mapping has no fields: the comparison proves nothing")
	}
	t.Logf("%d mapped fields compared (objects and multi-fields included)", len(wantLeaves))
	if len(diffs) == 0 && !reflect.DeepEqual(want["properties"], got["properties"]) {
		t.Error("mappings differ in structure although every field agrees")
	}
}

// flattenMapping maps each field path (objects and multi-fields included)
// to its parameters, as canonical JSON without sub-fields.
func flattenMapping(prefix string, props any, out map[string]string) {
	m, _ := props.(map[string]any)
	for name, v := range m {
		fm, _ := v.(map[string]any)
		path := prefix + name
		params := map[string]any{}
		for k, p := range fm {
			switch k {
			case "properties":
				flattenMapping(path+".", p, out)
			case "fields":
				flattenMapping(path+".", p, out)
			default:
				params[k] = p
			}
		}
		raw, _ := json.Marshal(params) // maps marshal with sorted keys
		out[path] = string(raw)
	}
}

// checkSourcesMapped fails for any document field that the dataset's
// catalog does not declare: with dynamic false such a field would be
// stored but silently not indexed.
func checkSourcesMapped(t *testing.T, e es, stream string, cat *fields.Catalog, ds *fields.Dataset) {
	t.Helper()
	known := map[string]bool{}
	for _, f := range cat.DatasetFields(ds) {
		known[f.Name] = true
	}
	hits := e.search(stream, json.RawMessage(`{"match_all":{}}`))
	if len(hits) == 0 {
		t.Fatalf("%s holds no documents", stream)
	}
	unknown := map[string]int{}
	for _, h := range hits {
		var src map[string]any
		e.decode(h.Source, &src)
		for _, name := range sourceFields("", src) {
			if !known[name] {
				unknown[name]++
			}
		}
	}
	names := make([]string, 0, len(unknown))
	for n := range unknown {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		t.Errorf("%s: %d documents carry %s, which the catalog does not map", stream, unknown[n], n)
	}
}

// sourceFields lists the leaf paths of a document (arrays of objects
// contribute their objects' fields).
func sourceFields(prefix string, v any) []string {
	switch x := v.(type) {
	case map[string]any:
		var out []string
		for k, sub := range x {
			out = append(out, sourceFields(prefix+k+".", sub)...)
		}
		return out
	case []any:
		var out []string
		for _, sub := range x {
			out = append(out, sourceFields(prefix, sub)...)
		}
		if len(out) == 0 {
			return []string{strings.TrimSuffix(prefix, ".")}
		}
		return out
	default:
		return []string{strings.TrimSuffix(prefix, ".")}
	}
}
