package docs_test

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/fields/docs"
)

var update = flag.Bool("update", false, "rewrite docs/fields.md from the catalog")

const committed = "../../docs/fields.md"

// TestCommittedDocsAreFresh fails when the catalog changed and docs/fields.md
// was not regenerated (go test ./fields/docs -update, or mage update).
func TestCommittedDocsAreFresh(t *testing.T) {
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	got := docs.Markdown(cat)
	if *update {
		if err := os.WriteFile(committed, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: regenerate with `mage update` (or go test ./fields/docs -update)", committed)
	}
}

func TestMarkdownContent(t *testing.T) {
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	md := string(docs.Markdown(cat))
	if !strings.Contains(md, "<code>event.action : (&#34;start&#34; or &#34;end&#34;)") && !strings.Contains(md, `<code>event.action : ("start" or "end") and `) {
		t.Error("KQL line is not the corrected query")
	}
	if strings.Contains(md, `event.action : "start" or "end"`) {
		t.Error("docs carry the seed's wrong KQL")
	}
	for _, f := range cat.Fields {
		if !strings.Contains(md, "#### `"+f.Name+"`") {
			t.Errorf("%s: not documented", f.Name)
		}
	}
	if !bytes.Equal(docs.Markdown(cat), docs.Markdown(cat)) {
		t.Error("not reproducible")
	}
	// The stale check must notice a catalog change.
	cat.Fields[0].Description = "changed."
	if strings.Contains(string(docs.Markdown(cat)), md) {
		t.Error("a description change does not change the docs")
	}
}
