package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes procbeat with args in a fresh command tree.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runIn(t, "", args...)
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "procbeat.yml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTestConfigNamesTheKeyPath(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"misspelled key":            {"output:\n  elasticsearch:\n    hostz: [\"localhost:9200\"]\n", "output.elasticsearch: invalid keys: hostz"},
		"wrong type":                {"procbeat:\n  tracker:\n    max_processes: many\n", "procbeat.tracker.max_processes"},
		"invalid value":             {"procbeat:\n  namespace: Not-Valid\n", "procbeat.namespace"},
		"negative shutdown_timeout": {"shutdown_timeout: -1s\n", "shutdown_timeout: must not be negative"},
	} {
		_, stderr, code := run(t, "test", "config", "-c", writeConfig(t, tc.body))
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want non-zero and %q", name, code, stderr, tc.want)
		}
	}
	out, _, code := run(t, "test", "config", "-c", writeConfig(t, "procbeat:\n  namespace: prod\n"))
	if code != 0 || !strings.Contains(out, "Config OK") {
		t.Errorf("good config: exit %d, %q", code, out)
	}
	_, stderr, code := run(t, "test", "config", "-c", writeConfig(t, ""), "-E", "setup.template.field_types=sometimes")
	if code == 0 || !strings.Contains(stderr, "setup.template.field_types") {
		t.Errorf("-E override not validated: exit %d, %q", code, stderr)
	}
	_, _, code = run(t, "test", "config", "-c", filepath.Join(t.TempDir(), "missing.yml"))
	if code == 0 {
		t.Error("an explicitly named missing file passed")
	}
}

func TestExportTemplate(t *testing.T) {
	out, stderr, code := run(t, "export", "template", "-E", "setup.template.data_retention=7d")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Components []struct {
			Name string          `json:"name"`
			Body json.RawMessage `json:"component_template"`
		} `json:"component_templates"`
		Indexes []struct {
			Name string         `json:"name"`
			Body map[string]any `json:"index_template"`
		} `json:"index_templates"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if len(got.Components) == 0 || len(got.Indexes) == 0 {
		t.Fatalf("nothing exported: %s", out)
	}
	lc := got.Indexes[0].Body["template"].(map[string]any)["lifecycle"].(map[string]any)
	if lc["data_retention"] != "7d" {
		t.Errorf("retention from config not applied: %v", lc)
	}
	if stderr != "" {
		t.Errorf("full export warned: %s", stderr)
	}
	out, stderr, code = run(t, "export", "template", "--field-types", "minimal")
	if code != 0 || strings.Contains(out, `"wildcard"`) || !strings.Contains(stderr, "field process.command_line: cluster lacks wildcard") {
		t.Errorf("minimal export: exit %d, warnings %q", code, stderr)
	}
	// setup.template.field_types applies when the flag is not given, and
	// the flag wins over it.
	out, stderr, code = run(t, "export", "template", "-E", "setup.template.field_types=minimal")
	if code != 0 || strings.Contains(out, `"wildcard"`) || !strings.Contains(stderr, "cluster lacks wildcard") {
		t.Errorf("field_types: minimal from the config ignored: exit %d, warnings %q", code, stderr)
	}
	out, _, code = run(t, "export", "template", "-E", "setup.template.field_types=minimal", "--field-types", "full")
	if code != 0 || !strings.Contains(out, `"wildcard"`) {
		t.Errorf("--field-types full does not win over the config: exit %d", code)
	}
}

func TestExportFieldsMatchesCommittedDocs(t *testing.T) {
	out, _, code := run(t, "export", "fields")
	want, err := os.ReadFile("../../docs/fields.md")
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || out != string(want) {
		t.Error("export fields differs from docs/fields.md: run mage update")
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "procbeat version ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestKQLLintSeedQuery(t *testing.T) {
	seed := `event.dataset : "endpoint.events.process" and event.module : "endpoint" and host.os.type : "windows" and event.action : "start" or "end"`
	fixed := `event.dataset : "endpoint.events.process" and event.module : "endpoint" and host.os.type : "windows" and event.action : ("start" or "end")`
	out, _, code := run(t, "kql", "lint", seed)
	if code != 1 || !strings.Contains(out, "precedence") || !strings.Contains(out, "bare-value") || !strings.Contains(out, "suggested: "+fixed) {
		t.Errorf("seed: exit %d\n%s", code, out)
	}
	out, _, code = run(t, "kql", "lint", fixed)
	if code != 0 || out != "" {
		t.Errorf("corrected query: exit %d %q", code, out)
	}
	_, stderr, code := run(t, "kql", "lint", "process.name : (")
	if code != 1 || stderr == "" {
		t.Errorf("syntax error: exit %d %q", code, stderr)
	}
	out, _, code = run(t, "kql", "translate", fixed)
	if code != 0 || !strings.Contains(out, `"minimum_should_match": 1`) || !strings.Contains(out, `"term"`) || strings.Count(out, `"should"`) < 5 {
		t.Errorf("translate: exit %d\n%s", code, out)
	}
}

// TestExportConfigIsEffective: export config prints what procbeat will
// use, defaults and resolved references included, not only what was set.
func TestExportConfigIsEffective(t *testing.T) {
	t.Setenv("PB_EXPORT_NS", "case_7")
	out, stderr, code := run(t, "export", "config", "-c", writeConfig(t, "procbeat:\n  namespace: ${PB_EXPORT_NS}\n"), "--path.data", "/srv/pb-data")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"namespace: case_7", "max_processes: 100000", "scan_frequency: 10s", "data: /srv/pb-data", "level: info"} {
		if !strings.Contains(out, want) {
			t.Errorf("export config lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "${") {
		t.Errorf("unresolved reference printed:\n%s", out)
	}
}
