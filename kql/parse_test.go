package kql

import (
	"errors"
	"strings"
	"testing"
)

// parseCases: the canonical form shows how the query was read; Paren nodes
// appear only where the source had parentheses, so the structure is
// checked separately in TestParseStructure.
var parseCases = []struct {
	query, canonical string
}{
	{seedQuery, seedQuery},
	{seedFixed, seedFixed},
	{`a:b`, `a : b`},
	{`  a  :  b  `, `a : b`},
	{`a:b AND c:d Or NOT e:f`, `a : b and c : d or not e : f`},
	{`f:(a or b and not c)`, `f : (a or b and not c)`},
	{`f:((a))`, `f : ((a))`},
	{`((f:a))`, `((f : a))`},
	{`f : hello world`, `f : hello world`},
	{`f: a \or b`, `f : a \or b`},
	{`f: a \NOT b`, `f : a \u004eOT b`}, // `NOT ` would end the value
	{`f: a \not b`, `f : a \not b`},     // \n is a newline escape: Kibana's reading
	{`x:1 and`, `x : 1 \and`},
	{`a or or b`, `a or or b`},
	{`f:a or and`, `f : a or and`},
	{`f: not`, `f : \u006eot`},
	{`cannot:x`, `can\u006eot : x`}, // `cannot :` would read `not :` as NOT
	{`f:"a\"b\\c\d"`, `f : "a\"b\\c\\d"`},
	{`f:"\u0041\t"`, `f : "A\t"`},
	{`f:\u0041\t`, `f : A`},
	{`f:a\*b*`, `f : a\*b*`},
	{`f:*`, `f : *`},
	{`*:*`, `* : *`},
	{`f.*:x`, `f.* : x`},
	{`"f g":x`, `"f g" : x`},
	{`a b:c`, `a b : c`},
	{`f < 3 4`, `f < 3 4`},
	{`f<="x"`, `f <= "x"`},
	{`f>=a*`, `f >= a*`},
	{`f > 1 and g<2`, `f > 1 and g < 2`},
	{`f:{g:1 or h:{i:2}}`, `f : { g : 1 or h : { i : 2 } }`},
	{`not   a`, `not a`},
	{"NOT\ta", `not a`},
	{"a\tor\nb", `a or b`},
	{`""`, `""`},
	{`f:""`, `f : ""`},
	{`f:\t`, `f : \t`},
	{`é:ü`, `é : ü`},
	{`f:\uD83D\uDE00`, "f : \U0001F600"},
	{`f:\uD83D`, "f : \uFFFD"},
	{`true : null`, `true : null`},
	{`f: a\(b\)`, `f : a\(b\)`},
	{``, ``},
}

func TestParseCanonical(t *testing.T) {
	for _, c := range parseCases {
		n := mustParse(t, c.query)
		if got := Format(n); got != c.canonical {
			t.Errorf("Format(Parse(%q)) = %q, want %q", c.query, got, c.canonical)
		}
	}
}

func TestParseStructure(t *testing.T) {
	// Precedence: not > and > or.
	n := mustParse(t, `a or b and not c`)
	or, ok := n.(*Or)
	if !ok || len(or.Terms) != 2 {
		t.Fatalf("want or of 2 terms, got %#v", n)
	}
	if _, ok := or.Terms[0].(*Literal); !ok {
		t.Errorf("first term: %T", or.Terms[0])
	}
	and, ok := or.Terms[1].(*And)
	if !ok || len(and.Terms) != 2 {
		t.Fatalf("second term: %#v", or.Terms[1])
	}
	if _, ok := and.Terms[1].(*Not); !ok {
		t.Errorf("not: %T", and.Terms[1])
	}
	if or.OpPos[0] != 2 || and.OpPos[0] != 7 {
		t.Errorf("operator positions %v %v", or.OpPos, and.OpPos)
	}

	// The seed: four conditions and-ed, then or-ed with a bare value.
	n = mustParse(t, seedQuery)
	or, ok = n.(*Or)
	if !ok || len(or.Terms) != 2 {
		t.Fatalf("seed: %T", n)
	}
	if a, ok := or.Terms[0].(*And); !ok || len(a.Terms) != 4 {
		t.Errorf("seed left: %#v", or.Terms[0])
	}
	bare, ok := or.Terms[1].(*Literal)
	if !ok || bare.Text != "end" || !bare.Quoted || bare.Start != strings.Index(seedQuery, `"end"`) {
		t.Errorf("seed right: %#v", or.Terms[1])
	}

	// Literals: quoting, wildcards, positions.
	m := mustParse(t, `  process.name : a\*b* `).(*Match)
	if m.Field.Text != "process.name" || m.Field.Start != 2 || m.Field.Quoted {
		t.Errorf("field %#v", m.Field)
	}
	v := m.Value.(*Literal)
	if v.Text != "a*b*" || len(v.Stars) != 1 || v.Stars[0] != 3 || v.Start != 17 {
		t.Errorf("value %#v", v)
	}
	if m.Start != 2 {
		t.Errorf("match span %v", m.Span)
	}
	r := mustParse(t, `x >= "5"`).(*Range)
	if r.Op != ">=" || r.Value.Text != "5" || !r.Value.Quoted {
		t.Errorf("range %#v", r)
	}
	ne := mustParse(t, `p : { q : 1 }`).(*Nested)
	if ne.Path.Text != "p" || ne.Start != 0 || ne.End != 13 {
		t.Errorf("nested %#v", ne)
	}
	if _, ok := mustParse(t, " \n").(*Empty); !ok {
		t.Error("blank query is not Empty")
	}
	if !mustParse(t, `*`).(*Literal).IsLoneWildcard() {
		t.Error("* is not a lone wildcard")
	}
}

// syntaxErrorCases carry Kibana's error offsets (checked against Kibana by
// the differential test) and part of the expectation list.
var syntaxErrorCases = []struct {
	query  string
	offset int
	expect string
}{
	{`not(a:b)`, 3, `":"`},
	{`cannot x`, 3, `AND, OR`},
	{`not not a`, 4, `"(", field name, value`},
	{`a:b:c`, 3, `AND, OR, end of input, whitespace`},
	{`"a" b`, 4, `":"`},
	{`f:"a"b`, 5, `AND, OR`},
	{`f:"a`, 2, `value`},
	{`"abc\"`, 0, `field name`},
	{`f: a\`, 4, `end of input`},
	{`:x`, 0, `field name`},
	{`f:{}`, 3, `NOT`},
	{`()`, 1, `"("`},
	{`f:()`, 3, `value`},
	{`f:(a) b`, 6, `end of input`},
	{`f: not x`, 3, `value`},
	{`f:`, 2, `value`},
	{`f <`, 3, `literal`},
	{`f:{g:1`, 6, `"}"`},
	{`(a`, 2, `")"`},
	{"a:\nb:c", 4, `AND`},
}

func TestSyntaxErrors(t *testing.T) {
	for _, c := range syntaxErrorCases {
		_, err := Parse(c.query)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q): want a syntax error, got %v", c.query, err)
			continue
		}
		if se.Offset != c.offset || !strings.Contains(strings.Join(se.Expected, ", "), c.expect) {
			t.Errorf("Parse(%q): got offset %d expected %v, want offset %d and %s", c.query, se.Offset, se.Expected, c.offset, c.expect)
		}
		if !strings.Contains(se.Error(), "line ") || !strings.Contains(se.Error(), "expected") {
			t.Errorf("message lacks position or expectation: %s", se)
		}
	}
	_, err := Parse("a:\nb:c")
	if se := err.(*SyntaxError); se.Line != 2 || se.Col != 2 || se.Found != `":"` {
		t.Errorf("line/col: %+v", se)
	}
}

func TestParseDepthLimit(t *testing.T) {
	deep := strings.Repeat("(", maxDepth+10) + "a" + strings.Repeat(")", maxDepth+10)
	_, err := Parse(deep)
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(se.Error(), "nesting") {
		t.Fatalf("want nesting error, got %v", err)
	}
	ok := strings.Repeat("(", 100) + "a" + strings.Repeat(")", 100)
	if _, err := Parse(ok); err != nil {
		t.Fatal(err)
	}
}
