package kql

import (
	"fmt"
	"strings"
)

// Format prints a node as a canonical query: lower-case keywords, one
// blank around operators, `field : value`, `field >= value`,
// `path : { query }`, quoted literals kept quoted and escaped minimally.
// Parentheses written in the source are kept; missing ones that the
// precedence requires (for trees built by hand) are added. For any tree
// Parse returned, Parse(Format(n)) equals n (see Equal).
func Format(n Node) string {
	var b strings.Builder
	formatQuery(&b, n)
	return b.String()
}

func formatQuery(b *strings.Builder, n Node) {
	switch x := n.(type) {
	case nil, *Empty:
	case *Or:
		for i, t := range x.Terms {
			if i > 0 {
				b.WriteString(" or ")
			}
			_, isOr := t.(*Or)
			wrapIf(b, isOr, t, formatQuery)
		}
	case *And:
		for i, t := range x.Terms {
			if i > 0 {
				b.WriteString(" and ")
			}
			wrapIf(b, !isAtom(t, false) && !isNot(t), t, formatQuery)
		}
	case *Not:
		b.WriteString("not ")
		wrapIf(b, !isAtom(x.X, false), x.X, formatQuery)
	case *Paren:
		b.WriteByte('(')
		formatQuery(b, x.X)
		b.WriteByte(')')
	case *Match:
		writeLiteral(b, x.Field)
		b.WriteString(" : ")
		wrapIf(b, !isAtom(x.Value, true), x.Value, formatValues)
	case *Range:
		writeLiteral(b, x.Field)
		b.WriteByte(' ')
		b.WriteString(x.Op)
		b.WriteByte(' ')
		writeLiteral(b, x.Value)
	case *Nested:
		writeLiteral(b, x.Path)
		b.WriteString(" : { ")
		formatQuery(b, x.Query)
		b.WriteString(" }")
	case *Literal:
		writeLiteral(b, x)
	default:
		panic(fmt.Sprintf("kql.Format: unexpected node %T", n))
	}
}

// formatValues prints a value tree (the inside of `field : (...)`).
func formatValues(b *strings.Builder, n Node) {
	switch x := n.(type) {
	case *Or:
		for i, t := range x.Terms {
			if i > 0 {
				b.WriteString(" or ")
			}
			_, isOr := t.(*Or)
			wrapIf(b, isOr, t, formatValues)
		}
	case *And:
		for i, t := range x.Terms {
			if i > 0 {
				b.WriteString(" and ")
			}
			wrapIf(b, !isAtom(t, true) && !isNot(t), t, formatValues)
		}
	case *Not:
		b.WriteString("not ")
		wrapIf(b, !isAtom(x.X, true), x.X, formatValues)
	case *Paren:
		b.WriteByte('(')
		formatValues(b, x.X)
		b.WriteByte(')')
	case *Literal:
		writeLiteral(b, x)
	default:
		panic(fmt.Sprintf("kql.Format: unexpected value node %T", n))
	}
}

func wrapIf(b *strings.Builder, wrap bool, n Node, f func(*strings.Builder, Node)) {
	if wrap {
		b.WriteByte('(')
	}
	f(b, n)
	if wrap {
		b.WriteByte(')')
	}
}

// isAtom: nodes that may follow `not` or stand as an operand without
// parentheses.
func isAtom(n Node, values bool) bool {
	switch n.(type) {
	case *Paren, *Literal:
		return true
	case *Match, *Range, *Nested:
		return !values
	}
	return false
}

func isNot(n Node) bool { _, ok := n.(*Not); return ok }

// writeLiteral prints a literal so that Parse reads back the same Text,
// quoting and wildcards.
func writeLiteral(b *strings.Builder, l *Literal) {
	if l.Quoted {
		b.WriteByte('"')
		for i := 0; i < len(l.Text); i++ {
			switch c := l.Text[i]; c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\t':
				b.WriteString(`\t`)
			case '\r':
				b.WriteString(`\r`)
			case '\n':
				b.WriteString(`\n`)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
		return
	}
	t := l.Text
	if t == "" {
		// Only reachable from `\t`-style input that trims to nothing.
		b.WriteString(`\t`)
		return
	}
	star := 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '*':
			if star < len(l.Stars) && l.Stars[star] == i {
				star++
				b.WriteByte('*')
			} else {
				b.WriteString(`\*`)
			}
		case strings.IndexByte(specialChars, c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\n':
			b.WriteString(`\n`)
		case (c == 'o' || c == 'O' || c == 'a' || c == 'A') && i > 0 && t[i-1] == ' ' && keywordEnds(t, i):
			// `or`/`and` between blanks (or last, since a blank or the end
			// follows every literal) would read as an operator.
			b.WriteByte('\\')
			b.WriteByte(c)
		case (c == 'n' || c == 'N') && notEnds(t, i):
			// `\not` would read as a newline escape: spell the n in hex.
			fmt.Fprintf(b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
}

// keywordEnds reports whether t[i:] starts with or/and followed by a blank
// or the end of the literal.
func keywordEnds(t string, i int) bool {
	for _, kw := range []string{"or", "and"} {
		if len(t)-i >= len(kw) && strings.EqualFold(t[i:i+len(kw)], kw) {
			j := i + len(kw)
			if j == len(t) || t[j] == ' ' {
				return true
			}
		}
	}
	return false
}

func notEnds(t string, i int) bool {
	if len(t)-i < 3 || !strings.EqualFold(t[i:i+3], "not") {
		return false
	}
	return i+3 == len(t) || t[i+3] == ' '
}
