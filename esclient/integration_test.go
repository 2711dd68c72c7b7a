package esclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/testing/estest"
	"golang.org/x/crypto/bcrypt"
)

// Tests below run against a real cluster (see testing/estest); one
// container is shared by the package. They run in parallel so that the
// shared container and TestSecurityEnabled's own start together.
func TestMain(m *testing.M) { os.Exit(estest.Main(m)) }

func clusterConfig(c *estest.Cluster) Config {
	cfg := DefaultConfig()
	cfg.Hosts = []string{c.URL}
	cfg.Username, cfg.Password = c.Username, c.Password
	return cfg
}

// testTemplates returns a component and an index template for the data
// stream logs-procbeattest.events.x-<ns>.
func testTemplates(ns string, extraField string) (comp, idx Named, stream string) {
	stream = "logs-procbeattest.events.x-" + ns
	props := `"@timestamp":{"type":"date"},"process":{"properties":{"pid":{"type":"long"},"name":{"type":"keyword","ignore_above":1024}}},"message":{"type":"text"}`
	if extraField != "" {
		props += `,"` + extraField + `":{"type":"keyword"}`
	}
	comp = Named{
		Name: "procbeattest-" + ns + "@mappings",
		Body: []byte(`{"template":{"settings":{"number_of_shards":1,"index.refresh_interval":"1s"},"mappings":{"dynamic":false,"properties":{` + props + `}}},"_meta":{"managed_by":"procbeat-test"},"version":1}`),
	}
	idx = Named{
		Name: "procbeattest-" + ns,
		Body: []byte(`{"index_patterns":["` + stream + `"],"composed_of":["` + comp.Name + `"],"priority":200,"data_stream":{},"_meta":{"managed_by":"procbeat-test"}}`),
	}
	return comp, idx, stream
}

func actions(r Report) string {
	var parts []string
	for _, res := range r.Results {
		parts = append(parts, fmt.Sprintf("%s/%s=%s", res.Kind, res.Name, res.Action))
	}
	return strings.Join(parts, " ")
}

func TestInstallTemplatesIsIdempotent(t *testing.T) {
	t.Parallel()
	c := estest.Start(t)
	ctx := t.Context()
	ns := c.Namespace(t)
	comp, idx, _ := testTemplates(ns, "")

	for i, want := range []Action{Created, Unchanged, Unchanged} {
		rep, err := InstallTemplates(ctx, c.Client, []Named{comp}, []Named{idx})
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if len(rep.Results) != 2 || rep.Results[0].Action != want || rep.Results[1].Action != want {
			t.Fatalf("run %d: %s, want all %s", i+1, actions(rep), want)
		}
		if rep.Changed() != (want != Unchanged) {
			t.Errorf("run %d: Changed() = %v", i+1, rep.Changed())
		}
	}

	// A new field changes the component template only.
	comp2, idx2, _ := testTemplates(ns, "extra")
	rep, err := InstallTemplates(ctx, c.Client, []Named{comp2}, []Named{idx2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Results[0].Action != Updated || rep.Results[1].Action != Unchanged {
		t.Fatalf("after adding a field: %s", actions(rep))
	}
	status, body, err := do(ctx, c.Client, http.MethodGet, "/_component_template/"+comp2.Name, nil)
	if err != nil || status != http.StatusOK || !bytes.Contains(body, []byte(`"extra"`)) {
		t.Fatalf("installed component template lacks the new field: %d %s %v", status, body, err)
	}
	// And going back removes it again.
	rep, err = InstallTemplates(ctx, c.Client, []Named{comp}, nil)
	if err != nil || rep.Results[0].Action != Updated {
		t.Fatalf("after removing the field: %s %v", actions(rep), err)
	}
}

func TestInstallTemplatesReportsServerErrors(t *testing.T) {
	t.Parallel()
	c := estest.Start(t)
	bad := Named{Name: "procbeattest-" + c.Namespace(t), Body: []byte(`{"template":{"mappings":{"properties":{"f":{"type":"no_such_type"}}}}}`)}
	_, err := InstallTemplates(t.Context(), c.Client, []Named{bad}, nil)
	if err == nil || !strings.Contains(err.Error(), bad.Name) || !strings.Contains(err.Error(), "no_such_type") {
		t.Errorf("err = %v, want one naming the template and the bad type", err)
	}
}

func TestDataStreamWrite(t *testing.T) {
	t.Parallel()
	c := estest.Start(t)
	ctx := t.Context()
	comp, idx, stream := testTemplates(c.Namespace(t), "")
	if _, err := InstallTemplates(ctx, c.Client, []Named{comp}, []Named{idx}); err != nil {
		t.Fatal(err)
	}
	doc := []byte(`{"@timestamp":"2024-05-01T10:00:00Z","process":{"pid":4242,"name":"cmd.exe"},"message":"hello"}`)
	status, body, err := do(ctx, c.Client, http.MethodPost, "/"+stream+"/_doc?op_type=create&refresh=true", doc)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create: %d %s %v", status, body, err)
	}
	var created struct {
		Index string `json:"_index"`
	}
	if err := json.Unmarshal(body, &created); err != nil || !strings.HasPrefix(created.Index, ".ds-"+stream+"-") {
		t.Errorf("document landed in %q, want a backing index of %s", created.Index, stream)
	}

	status, body, err = do(ctx, c.Client, http.MethodGet, "/_resolve/index/"+stream, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("resolve: %d %s %v", status, body, err)
	}
	var resolved struct {
		DataStreams []struct {
			Name           string   `json:"name"`
			BackingIndices []string `json:"backing_indices"`
			TimestampField string   `json:"timestamp_field"`
		} `json:"data_streams"`
	}
	if err := json.Unmarshal(body, &resolved); err != nil {
		t.Fatal(err)
	}
	if len(resolved.DataStreams) != 1 || resolved.DataStreams[0].Name != stream || resolved.DataStreams[0].TimestampField != "@timestamp" {
		t.Fatalf("resolve answer %s", body)
	}

	// The template's mapping applies: a term query on the keyword finds it.
	q := []byte(`{"query":{"bool":{"filter":[{"term":{"process.name":"cmd.exe"}},{"term":{"process.pid":4242}}]}}}`)
	status, body, err = do(ctx, c.Client, http.MethodPost, "/"+stream+"/_search", q)
	if err != nil || status != http.StatusOK || !bytes.Contains(body, []byte(`"hits":{"total":{"value":1`)) {
		t.Errorf("search: %d %s %v", status, body, err)
	}
}

func nodeModules(t *testing.T, ctx context.Context, c *estest.Cluster) map[string]bool {
	t.Helper()
	status, body, err := do(ctx, c.Client, http.MethodGet, "/_nodes/_local?filter_path=nodes.*.modules.name", nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("modules: %d %s %v", status, body, err)
	}
	var doc struct {
		Nodes map[string]struct {
			Modules []struct{ Name string } `json:"modules"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	mods := map[string]bool{}
	for _, n := range doc.Nodes {
		for _, m := range n.Modules {
			mods[m.Name] = true
		}
	}
	return mods
}

// Detection by template simulation must agree with the modules the node
// loaded (integ-test-zip: none of the three; full distribution: all).
func TestDetectCapabilities(t *testing.T) {
	t.Parallel()
	c := estest.Start(t)
	ctx := t.Context()
	caps, err := DetectCapabilities(ctx, c.Client)
	if err != nil {
		t.Fatal(err)
	}
	mods := nodeModules(t, ctx, c)
	if caps.Wildcard != mods["wildcard"] || caps.ConstantKeyword != mods["constant-keyword"] || caps.MatchOnlyText != mods["mapper-extras"] {
		t.Errorf("detected %+v, modules %v", caps, mods)
	}
	if caps.Version != c.Version || caps.Distribution != "elasticsearch" {
		t.Errorf("detected version %q distribution %q, cluster says %q", caps.Version, caps.Distribution, c.Version)
	}
	t.Logf("capabilities of %s: %+v", c.URL, caps)

	for typ, want := range map[string]bool{"keyword": true, "flattened": true, "scaled_float": mods["mapper-extras"], "unsigned_long": mods["unsigned-long"]} {
		got, err := FieldTypeSupported(ctx, c.Client, typ)
		if err != nil || got != want {
			t.Errorf("FieldTypeSupported(%s) = %v, %v; want %v", typ, got, err, want)
		}
	}
	if got, err := FieldTypeSupported(ctx, c.Client, "no_such_type"); got || err != nil {
		t.Errorf("FieldTypeSupported(no_such_type) = %v, %v; want false, nil", got, err)
	}
}

func TestOutputAgainstCluster(t *testing.T) {
	t.Parallel()
	c := estest.Start(t)
	checks := TestOutput(t.Context(), clusterConfig(c))
	for _, ch := range checks {
		if !ch.OK {
			t.Errorf("check %q failed: %s", ch.Name, ch.Detail)
		}
	}
	if len(checks) != 4 {
		t.Errorf("got %d checks, want connection, version and two privilege checks: %+v", len(checks), checks)
	}
}

func TestOutputWrongPort(t *testing.T) {
	t.Parallel()
	c := estest.Start(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	cfg := clusterConfig(c)
	cfg.Hosts = []string{"http://" + dead}
	checks := TestOutput(t.Context(), cfg)
	if len(checks) == 0 || checks[0].OK || !strings.Contains(checks[0].Detail, "connection refused") {
		t.Errorf("checks %+v: want a refused connection first", checks)
	}
	for _, ch := range checks {
		if ch.OK {
			t.Errorf("check %q passed without a reachable host", ch.Name)
		}
	}
}

// With security on: wrong password, the superuser, and a user that may
// only read, which also exercises capability detection without the
// privilege to simulate templates. The reader is a file-realm user: the
// integ-test-zip image cannot create the .security index that native
// users, roles and API keys live in.
func TestSecurityEnabled(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("reader-pass"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	c := estest.StartDedicated(t, estest.Options{Security: true, ConfigFiles: map[string][]byte{
		"users":       []byte("procbeat_reader:" + string(hash) + "\n"),
		"users_roles": []byte("procbeat_reader:procbeat_reader\n"),
		"roles.yml": []byte("procbeat_reader:\n  cluster: [monitor]\n  indices:\n" +
			"    - names: ['logs-*']\n      privileges: [read]\n"),
	}})
	ctx := t.Context()

	cfg := clusterConfig(c)
	cfg.Password = "wrong"
	checks := TestOutput(ctx, cfg)
	if len(checks) == 0 || checks[0].OK || !strings.Contains(checks[0].Detail, "authentication failed (401)") {
		t.Errorf("wrong password: %+v", checks)
	}

	for _, ch := range TestOutput(ctx, clusterConfig(c)) {
		if !ch.OK || strings.Contains(ch.Detail, "security disabled") {
			t.Errorf("superuser: check %q: ok=%v %s", ch.Name, ch.OK, ch.Detail)
		}
	}
	want, err := DetectCapabilities(ctx, c.Client)
	if err != nil {
		t.Fatal(err)
	}

	reader := clusterConfig(c)
	reader.Username, reader.Password = "procbeat_reader", "reader-pass"
	m := checksByName(TestOutput(ctx, reader))
	if ch := m["privileges: write "+EventsIndexPattern]; ch.OK || !strings.Contains(ch.Detail, "create_doc, auto_configure") {
		t.Errorf("reader write check: %+v", ch)
	}
	if ch := m["privileges: manage index templates"]; ch.OK || !strings.Contains(ch.Detail, "manage_index_templates") {
		t.Errorf("reader template check: %+v", ch)
	}
	readerClient, err := New(reader)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DetectCapabilities(ctx, readerClient)
	if err != nil {
		t.Fatalf("detect as reader (module fallback): %v", err)
	}
	if got != want {
		t.Errorf("reader detected %+v, superuser %+v", got, want)
	}
}
