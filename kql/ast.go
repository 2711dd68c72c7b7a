package kql

// Span is a half-open range of byte offsets [Start, End) into the query text.
type Span struct {
	Start, End int
}

// Pos returns the node's start offset; embedding Span gives every node one.
func (s Span) Pos() int { return s.Start }

// Node is one node of a parsed query. The same node types serve two levels:
// the query level (Or, And, Not, Paren, Match, Range, Nested, a bare
// *Literal, Empty) and the value level inside `field : (...)` (Or, And, Not,
// Paren, *Literal). Which level a node is at follows from where it hangs.
type Node interface {
	Pos() int
	isNode()
}

// Empty is the empty (or all-blank) query; Kibana treats it as match_all.
type Empty struct{ Span }

// Or is `a or b or ...`, at least two terms. OpPos holds the byte offset of
// each `or` keyword (len(Terms)-1 entries), used for warnings.
type Or struct {
	Span
	Terms []Node
	OpPos []int
}

// And is `a and b and ...`, at least two terms.
type And struct {
	Span
	Terms []Node
	OpPos []int
}

// Not is `not x`.
type Not struct {
	Span
	X Node
}

// Paren is a parenthesised query or value list. Kibana's AST drops
// parentheses; this one keeps them so the printer and the linter can tell
// `(a and b) or c` (written) from `a and b or c` (implied).
type Paren struct {
	Span
	X Node
}

// Match is `field : value`, where Value is a *Literal or a value tree
// (*Paren holding *Or, *And, *Not, *Paren and *Literal nodes).
// `field : *` (a lone wildcard value) is Kibana's exists query.
type Match struct {
	Span
	Field *Literal
	Value Node
}

// Range is `field < value`, `<=`, `>` or `>=`.
type Range struct {
	Span
	Field *Literal
	Op    string // "<", "<=", ">", ">="
	Value *Literal
}

// Nested is `path : { query }`; field names inside are relative to Path.
type Nested struct {
	Span
	Path  *Literal
	Query Node
}

// Literal is a field name or a value. At the query level a *Literal on its
// own is a bare value, which Kibana searches in every field.
type Literal struct {
	Span
	// Text is the unescaped text. Unquoted text is trimmed as Kibana trims it.
	Text string
	// Quoted is true for "..." literals: phrase semantics, no wildcards.
	Quoted bool
	// Stars are the byte offsets in Text of unescaped `*` wildcards (Text
	// holds a '*' there too). Empty for plain literals; an escaped `\*` is a
	// plain '*' in Text that is not listed here.
	Stars []int
}

// IsWildcard reports whether the literal contains an unescaped `*`.
func (l *Literal) IsWildcard() bool { return len(l.Stars) > 0 }

// IsLoneWildcard reports whether the literal is exactly one unescaped `*`.
func (l *Literal) IsLoneWildcard() bool { return len(l.Stars) == 1 && l.Text == "*" }

func (*Empty) isNode()   {}
func (*Or) isNode()      {}
func (*And) isNode()     {}
func (*Not) isNode()     {}
func (*Paren) isNode()   {}
func (*Match) isNode()   {}
func (*Range) isNode()   {}
func (*Nested) isNode()  {}
func (*Literal) isNode() {}

// Equal reports whether two trees are the same query, ignoring positions.
// Parentheses count: `(a)` and `a` are different trees.
func Equal(a, b Node) bool {
	switch x := a.(type) {
	case *Empty:
		_, ok := b.(*Empty)
		return ok
	case *Or:
		y, ok := b.(*Or)
		return ok && equalList(x.Terms, y.Terms)
	case *And:
		y, ok := b.(*And)
		return ok && equalList(x.Terms, y.Terms)
	case *Not:
		y, ok := b.(*Not)
		return ok && Equal(x.X, y.X)
	case *Paren:
		y, ok := b.(*Paren)
		return ok && Equal(x.X, y.X)
	case *Match:
		y, ok := b.(*Match)
		return ok && equalLit(x.Field, y.Field) && Equal(x.Value, y.Value)
	case *Range:
		y, ok := b.(*Range)
		return ok && x.Op == y.Op && equalLit(x.Field, y.Field) && equalLit(x.Value, y.Value)
	case *Nested:
		y, ok := b.(*Nested)
		return ok && equalLit(x.Path, y.Path) && Equal(x.Query, y.Query)
	case *Literal:
		y, ok := b.(*Literal)
		return ok && equalLit(x, y)
	case nil:
		return b == nil
	}
	return false
}

func equalList(a, b []Node) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func equalLit(a, b *Literal) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Text != b.Text || a.Quoted != b.Quoted || len(a.Stars) != len(b.Stars) {
		return false
	}
	for i := range a.Stars {
		if a.Stars[i] != b.Stars[i] {
			return false
		}
	}
	return true
}
