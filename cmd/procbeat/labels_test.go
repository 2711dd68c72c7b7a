package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/fields"
)

// TestTagsAndFieldsReachDocuments: tags and fields, as in Beats, label
// every document (fields as ECS labels), and the documents stay valid.
func TestTagsAndFieldsReachDocuments(t *testing.T) {
	cfg := writeConfig(t, "tags: [case-2291, replayed]\nfields:\n  case: IR-2291\n  analyst: \"alice \\\"a\\\"\"\n  priority: 2\n")
	out, stderr, code := run(t, "replay", "-c", cfg, "../../testdata/sample/sample.xml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 14 {
		t.Fatalf("%d documents", len(lines))
	}
	for _, line := range lines {
		var doc struct {
			Tags   []string          `json:"tags"`
			Labels map[string]string `json:"labels"`
		}
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if !reflect.DeepEqual(doc.Tags, []string{"case-2291", "replayed"}) {
			t.Errorf("tags %v", doc.Tags)
		}
		if want := map[string]string{"case": "IR-2291", "analyst": `alice "a"`, "priority": "2"}; !reflect.DeepEqual(doc.Labels, want) {
			t.Errorf("labels %v, want %v", doc.Labels, want)
		}
		for _, err := range cat.Validate("", []byte(line)) {
			t.Errorf("document not of the catalog: %v", err)
		}
	}
	// Without the settings, documents carry neither.
	out, _, _ = run(t, "replay", "../../testdata/sample/sample.xml")
	if strings.Contains(out, `"tags"`) || strings.Contains(out, `"labels"`) {
		t.Errorf("tags or labels without the settings: %.300s", out)
	}
}

func TestNestedFieldsAreRefused(t *testing.T) {
	_, stderr, code := run(t, "test", "config", "-c", writeConfig(t, "fields:\n  case:\n    id: 1\n"))
	if code == 0 || !strings.Contains(stderr, "fields.case") {
		t.Fatalf("nested fields accepted: exit %d, %s", code, stderr)
	}
}
