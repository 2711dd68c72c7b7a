package kql

import (
	"math/rand/v2"
	"testing"
)

// checkRoundTrip asserts Parse(Format(Parse(q))) == Parse(q), that Format
// is stable, and that translation does not fail on what parsed.
func checkRoundTrip(t *testing.T, q string) {
	t.Helper()
	n, err := Parse(q)
	if err != nil {
		return
	}
	f := Format(n)
	n2, err := Parse(f)
	if err != nil {
		t.Fatalf("Format(Parse(%q)) = %q does not parse: %v", q, f, err)
	}
	if !Equal(n, n2) {
		t.Fatalf("round trip changed the tree:\n query:  %q\n format: %q\n again:  %q", q, f, Format(n2))
	}
	if f2 := Format(n2); f2 != f {
		t.Fatalf("Format is not stable: %q then %q", f, f2)
	}
	if _, err := Translate(n, nil); err != nil {
		t.Fatalf("Translate(%q) without fields: %v", q, err)
	}
	// With fields, Kibana's nested checks may refuse a query; it must not panic.
	_, _ = Translate(n, testFields)
	ws, err := Lint(q, testFields)
	if err != nil {
		t.Fatalf("Lint(%q): %v", q, err)
	}
	for _, w := range ws {
		if w.Rewrite == "" {
			continue
		}
		if _, err := Parse(w.Rewrite); err != nil {
			t.Fatalf("Lint(%q): %s rewrite %q does not parse: %v", q, w.Kind, w.Rewrite, err)
		}
	}
}

func TestRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		// Trees built by hand need parentheses Format adds; what Format
		// prints must parse, and then round-trip exactly.
		tree := genQuery(r, 4)
		q := Format(tree)
		if _, err := Parse(q); err != nil {
			t.Fatalf("Format of a generated tree does not parse: %q: %v", q, err)
		}
		checkRoundTrip(t, q)
		checkRoundTrip(t, genSoup(r))
	}
	for _, c := range parseCases {
		checkRoundTrip(t, c.query)
	}
	for _, c := range translateCases {
		checkRoundTrip(t, c.query)
	}
}

// Trees that come from the parser keep their exact shape through Format.
func TestRoundTripExactTrees(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		n1 := mustParse(t, Format(genQuery(r, 3)))
		if n2 := mustParse(t, Format(n1)); !Equal(n1, n2) {
			t.Fatalf("%q", Format(n1))
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add(c.query)
	}
	for _, c := range syntaxErrorCases {
		f.Add(c.query)
	}
	for _, c := range translateCases {
		f.Add(c.query)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 50; i++ {
		f.Add(Format(genQuery(r, 3)))
		f.Add(genSoup(r))
	}
	f.Fuzz(func(t *testing.T, q string) {
		checkRoundTrip(t, q)
	})
}
