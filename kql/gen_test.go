package kql

import (
	"math/rand/v2"
	"strings"
)

// Random queries for the round-trip property, the fuzz seeds and the
// differential test.

var genFieldPool = []string{
	"event.action", "process.name", "process.name.text", "process.pid", "@timestamp",
	"host.ip", "message", "process.command_line", "foo", "a b", "process.name*", "*",
	"process.Ext.code_signature.*", "user.name", "true", "x:y", "é", "false", "null", "",
	"process.Ext.code_signature", "trusted", "subject_name",
}

var genPieces = []string{
	"start", "end", "a b", "or", "and", "not", "OR", "x:y", "(", ")", `\`, `"`, "*",
	"é", "\t", "cannot", "10.0.0.1", "2024-01-01", "-5", "<", "{", "}", " ", "  ", "\n",
	"cmd.exe", "null", "true", "ünï", "\U0001F600", "a\\*", "NoT", "And",
}

func genLiteral(r *rand.Rand, quoted bool, pool []string) *Literal {
	n := 1 + r.IntN(3)
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 && r.IntN(2) == 0 {
			b.WriteByte(' ')
		}
		b.WriteString(pool[r.IntN(len(pool))])
	}
	l := &Literal{Text: b.String(), Quoted: quoted}
	if quoted {
		return l
	}
	l.Text, _ = jsTrim(l.Text, nil)
	if l.Text == "" {
		l.Text = "x"
	}
	for i := 0; i < len(l.Text); i++ {
		if l.Text[i] == '*' && r.IntN(3) > 0 {
			l.Stars = append(l.Stars, i)
		}
	}
	return l
}

func genField(r *rand.Rand) *Literal {
	if r.IntN(4) == 0 {
		return genLiteral(r, r.IntN(3) == 0, genPieces)
	}
	name := genFieldPool[r.IntN(len(genFieldPool))]
	l := &Literal{Text: name}
	if strings.Contains(name, "*") {
		l.Stars = []int{strings.IndexByte(name, '*')}
	}
	if r.IntN(8) == 0 && l.Stars == nil {
		l.Quoted = true
	}
	return l
}

func genValues(r *rand.Rand, depth int, top bool) Node {
	if depth <= 0 || r.IntN(3) > 0 {
		lit := genLiteral(r, r.IntN(3) == 0, genPieces)
		if top && r.IntN(10) == 0 {
			lit = &Literal{Text: "*", Stars: []int{0}}
		}
		return lit
	}
	var inner Node
	switch r.IntN(4) {
	case 0:
		inner = &Or{Terms: []Node{genValues(r, depth-1, false), genValues(r, depth-1, false)}}
	case 1:
		inner = &And{Terms: []Node{genValues(r, depth-1, false), genValues(r, depth-1, false)}}
	case 2:
		inner = &Not{X: genValues(r, depth-1, false)}
	default:
		inner = genValues(r, depth-1, false)
	}
	return &Paren{X: inner}
}

func genQuery(r *rand.Rand, depth int) Node {
	if depth <= 0 || r.IntN(5) < 2 {
		switch r.IntN(6) {
		case 0:
			return genLiteral(r, r.IntN(2) == 0, genPieces)
		case 1:
			return &Range{Field: genField(r), Op: rangeOps[r.IntN(4)], Value: genLiteral(r, r.IntN(3) == 0, genPieces)}
		case 2:
			if depth > 0 {
				return &Nested{Path: genField(r), Query: genQuery(r, depth-1)}
			}
		}
		return &Match{Field: genField(r), Value: genValues(r, 2, true)}
	}
	switch r.IntN(5) {
	case 0:
		return &Not{X: genQuery(r, depth-1)}
	case 1:
		return &Paren{X: genQuery(r, depth-1)}
	case 2:
		return &And{Terms: []Node{genQuery(r, depth-1), genQuery(r, depth-1), genQuery(r, depth-1)}[:2+r.IntN(2)]}
	}
	return &Or{Terms: []Node{genQuery(r, depth-1), genQuery(r, depth-1), genQuery(r, depth-1)}[:2+r.IntN(2)]}
}

var soupTokens = []string{
	"a", "b.c", "process.name", "event.action", " ", "  ", ":", " : ", `"x y"`, `"a\"b"`, "(", ")",
	"{", "}", " and ", " or ", "not ", " AND ", " Or ", "*", `\*`, `\:`, `\(`, `\\`, `\n`, `\u0041`,
	"<", "<=", ">", ">=", "5", "true", "null", "cannot ", "or", "and", "\t", "é", `"`, `\`, `\not`,
	`\or`, "\n", "x*y", "@timestamp", "process.Ext.code_signature", "trusted",
}

// genSoup strings tokens together, so most results are syntax errors and
// the rest exercise odd corners of the grammar.
func genSoup(r *rand.Rand) string {
	n := 1 + r.IntN(10)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(soupTokens[r.IntN(len(soupTokens))])
	}
	return b.String()
}
