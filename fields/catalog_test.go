package fields_test

import (
	"encoding/csv"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/fields"
)

// The four fields Elastic documents but its template leaves unmapped; we map them.
var unmappedUpstream = map[string]string{
	"elastic.agent.id":                          "keyword",
	"process.Ext.command_line_truncated":        "boolean",
	"process.parent.Ext.command_line_truncated": "boolean",
	"process.parent.Ext.real.entity_id":         "keyword",
}

// tsvRow is one line of endpoint-process-fields.tsv, the facts of Elastic's
// mapping (a copy of ../shared/spec/endpoint-process-fields.tsv).
type tsvRow struct {
	field, esType, params, multiFields, note string
}

func readTSV(t *testing.T) []tsvRow {
	t.Helper()
	f, err := os.Open("testdata/endpoint-process-fields.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	r.LazyQuotes = true
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []tsvRow
	for _, rec := range recs[1:] {
		rows = append(rows, tsvRow{rec[0], rec[1], rec[2], rec[3], rec[4]})
	}
	return rows
}

func TestCatalogMatchesTSV(t *testing.T) {
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	rows := readTSV(t)
	if len(rows) != 123 {
		t.Fatalf("TSV has %d rows, want 123", len(rows))
	}
	for _, row := range rows {
		f, ok := cat.Field(row.field)
		if !ok {
			t.Errorf("%s: missing from catalog", row.field)
			continue
		}
		if want, ok := unmappedUpstream[row.field]; ok {
			if f.Type != want || !f.UnmappedUpstream {
				t.Errorf("%s: type %s unmapped_upstream %v, want %s true", row.field, f.Type, f.UnmappedUpstream, want)
			}
			continue
		}
		if f.Type != row.esType {
			t.Errorf("%s: type %s, TSV says %s", row.field, f.Type, row.esType)
		}
		wantIgnore, wantNorm := 0, ""
		for _, kv := range strings.Split(row.params, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "ignore_above":
				wantIgnore, _ = strconv.Atoi(v)
			case "normalizer":
				wantNorm = v
			}
		}
		if f.IgnoreAbove != wantIgnore || f.Normalizer != wantNorm {
			t.Errorf("%s: ignore_above %d normalizer %q, TSV says %d %q", row.field, f.IgnoreAbove, f.Normalizer, wantIgnore, wantNorm)
		}
		if got := describeMultiFields(f.MultiFields); got != row.multiFields {
			t.Errorf("%s: multi-fields %q, TSV says %q", row.field, got, row.multiFields)
		}
		if strings.Contains(row.note, "nested") {
			c, ok := cat.Container(row.field)
			if !ok || c.Type != "nested" || !strings.Contains(row.note, "`"+c.Name+"`") {
				t.Errorf("%s: not inside the nested object the TSV names (%s)", row.field, row.note)
			}
		}
	}
	for name := range unmappedUpstream {
		if _, ok := cat.Field(name); !ok {
			t.Errorf("%s: missing", name)
		}
	}
}

// describeMultiFields renders multi-fields in the TSV's notation.
func describeMultiFields(mfs []fields.MultiField) string {
	var parts []string
	for _, m := range mfs {
		var ps []string
		if m.Normalizer != "" {
			ps = append(ps, "normalizer="+m.Normalizer)
		}
		if m.IgnoreAbove > 0 {
			ps = append(ps, "ignore_above="+strconv.Itoa(m.IgnoreAbove))
		}
		if m.Norms != nil {
			ps = append(ps, "norms="+strconv.FormatBool(*m.Norms))
		}
		s := "." + m.Name + ": " + m.Type
		if len(ps) > 0 {
			s += " (" + strings.Join(ps, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func TestEveryFieldDescribed(t *testing.T) {
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cat.Fields {
		if len(f.Description) < 10 || !strings.HasSuffix(f.Description, ".") {
			t.Errorf("%s: description %q is not a sentence", f.Name, f.Description)
		}
		if !f.IsContainer() && f.Example == "" {
			t.Errorf("%s: no example", f.Name)
		}
	}
}

func TestParseRejectsBadCatalogs(t *testing.T) {
	head := "datasets:\n  - {name: d, title: T, events: [start]}\nfields:\n"
	for name, body := range map[string]string{
		"unknown key":     "  - {name: a, type: keyword, description: x, example: y, events: [start], typo: 1}\n",
		"unknown type":    "  - {name: a, type: strng, description: x, example: y, events: [start]}\n",
		"duplicate":       "  - {name: a, type: keyword, description: x, example: y, events: [start]}\n  - {name: a, type: keyword, description: x, example: y, events: [start]}\n",
		"unknown event":   "  - {name: a, type: keyword, description: x, example: y, events: [access]}\n",
		"no example":      "  - {name: a, type: keyword, description: x, events: [start]}\n",
		"leaf as parent":  "  - {name: a, type: keyword, description: x, example: y, events: [start]}\n  - {name: a.b, type: keyword, description: x, example: y, events: [start]}\n",
		"bad multi-field": "  - {name: a, type: keyword, description: x, example: y, events: [start], multi_fields: [{name: t, type: txt}]}\n",
	} {
		if _, err := fields.Parse([]byte(head + body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := fields.Parse([]byte(head + "  - {name: a, type: keyword, description: x, example: y, events: [start]}\n")); err != nil {
		t.Errorf("good catalog rejected: %v", err)
	}
}
