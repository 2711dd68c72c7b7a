package kql

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

const kibanaPackage = "kbn-es-query@1.0.7"

// kibanaResult is one line of testdata/kibana_diff.js's output.
type kibanaResult struct {
	Error          bool            `json:"error"`
	Offset         int             `json:"offset"`
	Message        string          `json:"message"`
	WithFields     json.RawMessage `json:"withFields"`
	WithoutFields  json.RawMessage `json:"withoutFields"`
	TranslateError string          `json:"translateError"`
}

// TestKibanaDifferential compares Parse and Translate with Kibana 8.9's own
// translator, repackaged on npm as kbn-es-query. Opt-in: it installs the
// package into $HOME/.cache/procbeat/kbn-es-query and needs node and npm.
func TestKibanaDifferential(t *testing.T) {
	if os.Getenv("PROCBEAT_KQL_DIFF") != "1" {
		t.Skip("set PROCBEAT_KQL_DIFF=1 to compare with Kibana 8.9's KQL translator (npm " + kibanaPackage + "; needs node and npm)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("PROCBEAT_KQL_DIFF=1 but node is missing: %v", err)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, ".cache", "procbeat", "kbn-es-query")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := installKibana(ctx, dir); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	configs := []struct {
		name string
		opt  Options
	}{
		{"defaults", Options{TimeZone: "UTC"}},
		{"all options", Options{TimeZone: "Europe/Paris", CaseInsensitive: &yes, NestedIgnoreUnmapped: &no, FiltersInMust: true}},
	}
	queries := diffQueries()
	for i, c := range configs {
		qs := queries
		if i > 0 {
			qs = queries[:1000] // the options touch few paths: the tables and a sample
		}
		t.Run(c.name, func(t *testing.T) {
			compareWithKibana(t, ctx, node, dir, qs, c.opt)
		})
	}
}

func compareWithKibana(t *testing.T, ctx context.Context, node, dir string, queries []string, opt Options) {
	var fields []map[string]string
	for _, f := range dataView(testFields) {
		fields = append(fields, map[string]string{"name": f.name, "esType": f.esType, "nested": f.nested})
	}
	config := map[string]any{"dateFormatTZ": opt.TimeZone, "filtersInMustClause": opt.FiltersInMust}
	if opt.CaseInsensitive != nil {
		config["caseInsensitive"] = *opt.CaseInsensitive
	}
	if opt.NestedIgnoreUnmapped != nil {
		config["nestedIgnoreUnmapped"] = *opt.NestedIgnoreUnmapped
	}
	req, err := json.Marshal(map[string]any{"fields": fields, "config": config, "queries": queries})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "kibana_diff.js"), dir)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var results []kibanaResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r kibanaResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("harness output: %v: %s", err, sc.Text())
		}
		results = append(results, r)
	}
	if len(results) != len(queries) {
		t.Fatalf("harness answered %d of %d queries", len(results), len(queries))
	}

	var accepted, rejected, dslSame, offsetSame, messageSame, failures int
	report := func(format string, args ...any) {
		failures++
		if failures <= 40 {
			t.Errorf(format, args...)
		}
	}
	for i, q := range queries {
		k := results[i]
		n, perr := Parse(q)
		if (perr != nil) != k.Error {
			report("%q: parse disagrees: ours %v, Kibana error=%v %s", q, perr, k.Error, k.Message)
			continue
		}
		if k.Error {
			rejected++
			se, ok := perr.(*SyntaxError)
			if ok && utf16Offset(q, se.Offset) == k.Offset {
				offsetSame++
			} else {
				report("%q: error offset: ours %v, Kibana %d (%s)", q, perr, k.Offset, k.Message)
			}
			if ok && kibanaMessage(se) == k.Message {
				messageSame++
			} else {
				report("%q: error message: ours %v, Kibana %s", q, perr, k.Message)
			}
			continue
		}
		accepted++
		mineNo, err := TranslateOptions(n, nil, opt)
		if err != nil {
			report("%q: no data view: %v", q, err)
			continue
		}
		mine, err := TranslateOptions(n, testFields, opt)
		if (err != nil) != (k.TranslateError != "") {
			report("%q: translate error disagrees: ours %v, Kibana %q", q, err, k.TranslateError)
			continue
		}
		same := jsonEqual(mineNo.String(), string(k.WithoutFields))
		if !same {
			report("%q without data view:\n ours:   %s\n Kibana: %s", q, mineNo, k.WithoutFields)
		}
		if err == nil && !jsonEqual(mine.String(), string(k.WithFields)) {
			same = false
			report("%q with data view:\n ours:   %s\n Kibana: %s", q, mine, k.WithFields)
		}
		if same {
			dslSame++
		}
	}
	t.Logf("%d queries: %d accepted by both, %d rejected by both (%d at the same offset, %d with the same expectations); DSL identical for %d of %d accepted; %d disagreements",
		len(queries), accepted, rejected, offsetSame, messageSame, dslSame, accepted, failures)
}

func installKibana(ctx context.Context, dir string) error {
	pj := filepath.Join(dir, "node_modules", "kbn-es-query", "package.json")
	if b, err := os.ReadFile(pj); err == nil && bytes.Contains(b, []byte(`"version": "1.0.7"`)) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", dir, "--no-audit", "--no-fund", kibanaPackage)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm install %s into %s: %w\n%s", kibanaPackage, dir, err, out)
	}
	return nil
}

// diffQueries are the table queries plus seeded random ones.
func diffQueries() []string {
	var qs []string
	for _, c := range translateCases {
		qs = append(qs, c.query)
	}
	for _, c := range parseCases {
		qs = append(qs, c.query)
	}
	for _, c := range syntaxErrorCases {
		qs = append(qs, c.query)
	}
	r := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 3000; i++ {
		qs = append(qs, Format(genQuery(r, 3)))
	}
	for i := 0; i < 4000; i++ {
		q := genSoup(r)
		qs = append(qs, q)
		// Kibana must read our canonical form of what it accepted the same way.
		if n, err := Parse(q); err == nil && Format(n) != q {
			qs = append(qs, Format(n))
		}
	}
	return qs
}

// kibanaMessage renders our syntax error in Kibana's words.
func kibanaMessage(se *SyntaxError) string {
	found := "end of input"
	if se.Offset < len(se.Query) {
		r, _ := utf8.DecodeRuneInString(se.Query[se.Offset:])
		found = `"` + string(r) + `"`
	}
	return "Expected " + strings.Join(se.Expected, ", ") + " but " + found + " found."
}

func utf16Offset(s string, byteOff int) int {
	if byteOff > len(s) {
		byteOff = len(s)
	}
	return len(utf16.Encode([]rune(strings.ToValidUTF8(s[:byteOff], "\uFFFD"))))
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
