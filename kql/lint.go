package kql

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Warning kinds.
const (
	KindPrecedence   = "precedence"    // and/or mixed at one level without parentheses
	KindBareValue    = "bare-value"    // a value with no field: searched in every field
	KindUnknownField = "unknown-field" // a field the catalog does not know
	KindTypeMismatch = "type-mismatch" // a value the field's type can never match
	KindNested       = "nested"        // a nested field used outside its nested group, or the reverse
)

// Warning is one finding of Lint. Rewrite is the whole query rewritten to
// fix this finding, or "" when there is no safe guess (unknown fields with
// no close name, values of the wrong type).
type Warning struct {
	Kind    string
	Offset  int // byte offset into the query
	Line    int // 1-based
	Col     int // 1-based, in characters
	Message string
	Rewrite string
}

// String is `line:col: kind: message`, plus `; suggested: QUERY` when there
// is a rewrite.
func (w Warning) String() string {
	s := fmt.Sprintf("%d:%d: %s: %s", w.Line, w.Col, w.Kind, w.Message)
	if w.Rewrite != "" {
		s += "; suggested: " + w.Rewrite
	}
	return s
}

// Lint parses query and reports the traps in it: and/or mixed without
// parentheses (Kibana reads `a and b or c` as `(a and b) or c`), bare values
// (searched in every field), and, when fields is not nil, unknown fields,
// nested-field misuse and values that can never match a field's type. The
// error is the parse error, if any. Warnings come in query order.
func Lint(query string, fields Fields) ([]Warning, error) {
	root, err := Parse(query)
	if err != nil {
		return nil, err
	}
	l := &linter{src: query, root: root, fields: fields}
	if fields != nil {
		l.names = fields.Names()
	}
	l.walk(root, nil, "", false)
	sort.SliceStable(l.out, func(i, j int) bool { return l.out[i].Offset < l.out[j].Offset })
	return l.out, nil
}

type linter struct {
	src    string
	root   Node
	fields Fields
	names  []string
	out    []Warning
}

func (l *linter) add(kind string, off int, rewrite Node, format string, args ...any) {
	w := Warning{Kind: kind, Offset: off, Message: fmt.Sprintf(format, args...)}
	w.Line, w.Col = LineCol(l.src, off)
	if rewrite != nil {
		w.Rewrite = Format(rewrite)
	}
	l.out = append(l.out, w)
}

// rewriteWith returns the root with old replaced by repl.
func (l *linter) rewriteWith(old, repl Node) Node {
	return replace(l.root, old, repl)
}

// walk visits n; parent is its parent node, path the nested context and
// values whether n is inside a value list.
func (l *linter) walk(n, parent Node, path string, values bool) {
	switch x := n.(type) {
	case *Or:
		l.checkPrecedence(x, values)
		for _, t := range x.Terms {
			l.walk(t, x, path, values)
		}
	case *And:
		for _, t := range x.Terms {
			l.walk(t, x, path, values)
		}
	case *Not:
		l.walk(x.X, x, path, values)
	case *Paren:
		l.walk(x.X, x, path, values)
	case *Literal:
		if !values {
			l.checkBare(x, parent, path)
		}
	case *Match:
		if isNullField(x.Field) {
			l.checkNullField(x)
		} else {
			l.checkField(x, x.Field, path, x.Value)
		}
		l.walk(x.Value, x, path, true)
	case *Range:
		l.checkField(x, x.Field, path, nil)
		if name, ok := l.knownType(x.Field, path); ok {
			l.checkValue(x.Value, name, path)
		}
	case *Nested:
		full := joinPath(path, x.Path.Text)
		l.checkNestedPath(x, path, full)
		l.walk(x.Query, x, full, false)
	}
}

func isNullField(f *Literal) bool { return !f.Quoted && !f.IsWildcard() && f.Text == "null" }

func (l *linter) checkNullField(x *Match) {
	l.add(KindBareValue, x.Field.Start, nil,
		"the field name null means no field to Kibana: %s is searched in every field", Format(x.Value))
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// checkPrecedence flags an or-list that has and-terms without parentheses.
func (l *linter) checkPrecedence(x *Or, values bool) {
	at := -1
	for i, t := range x.Terms {
		if _, ok := t.(*And); ok {
			if i > 0 {
				at = x.OpPos[i-1]
			} else {
				at = x.OpPos[0]
			}
			break
		}
	}
	if at < 0 {
		return
	}
	explicit := parenthesiseAnds(x)
	var fixed Node = explicit
	if !values {
		if n, ok := attachAll(x); ok {
			fixed = n
			if o, ok := n.(*Or); ok && hasAnd(o) {
				fixed = parenthesiseAnds(o)
			}
		}
	}
	l.add(KindPrecedence, at, l.rewriteWith(x, fixed),
		"`and` binds tighter than `or`, so this reads as %s; add parentheses to say what you mean", Format(explicit))
}

func hasAnd(o *Or) bool {
	for _, t := range o.Terms {
		if _, ok := t.(*And); ok {
			return true
		}
	}
	return false
}

func parenthesiseAnds(x *Or) *Or {
	terms := make([]Node, len(x.Terms))
	for i, t := range x.Terms {
		if a, ok := t.(*And); ok {
			terms[i] = &Paren{Span: a.Span, X: a}
		} else {
			terms[i] = t
		}
	}
	return &Or{Span: x.Span, Terms: terms, OpPos: x.OpPos}
}

// checkBare flags a value with no field.
func (l *linter) checkBare(x *Literal, parent Node, path string) {
	var fix Node
	if o, ok := parent.(*Or); ok {
		for i, t := range o.Terms {
			if t == Node(x) {
				if n, ok := attach(o, i); ok {
					fix = l.rewriteWith(o, n)
				}
				break
			}
		}
	}
	if path != "" {
		l.add(KindBareValue, x.Start, fix,
			"value %s has no field; inside the nested group %q Kibana searches the field %s.null for it", Format(x), path, path)
		return
	}
	l.add(KindBareValue, x.Start, fix,
		"value %s has no field, so Kibana searches every field for it (multi_match over all fields)", Format(x))
}

func isBare(n Node) bool { _, ok := n.(*Literal); return ok }

// anchor returns the field match an attached value joins: the match itself,
// or the last (first) term of an and-list on the left (right).
func anchor(n Node, last bool) (*Match, bool) {
	if a, ok := n.(*And); ok {
		if last {
			n = a.Terms[len(a.Terms)-1]
		} else {
			n = a.Terms[0]
		}
	}
	m, ok := n.(*Match)
	if !ok || isNullField(m.Field) {
		return nil, false
	}
	if lit, ok := m.Value.(*Literal); ok && lit.IsLoneWildcard() {
		return nil, false
	}
	return m, true
}

// attach moves the run of bare values around x.Terms[i] into the value list
// of the neighbouring `field : value` term: `f : v or w` becomes
// `f : (v or w)`, and `a and f : v or w` becomes `a and f : (v or w)`.
func attach(x *Or, i int) (Node, bool) {
	a, b := i, i
	for a > 0 && isBare(x.Terms[a-1]) {
		a--
	}
	for b+1 < len(x.Terms) && isBare(x.Terms[b+1]) {
		b++
	}
	run := x.Terms[a : b+1]
	var at int
	var m *Match
	var left bool
	if a > 0 {
		if mm, ok := anchor(x.Terms[a-1], true); ok {
			at, m, left = a-1, mm, true
		}
	}
	if m == nil && b+1 < len(x.Terms) {
		if mm, ok := anchor(x.Terms[b+1], false); ok {
			at, m = b+1, mm
		}
	}
	if m == nil {
		return nil, false
	}
	var vals []Node
	old := existingValues(m.Value)
	if left {
		vals = append(append(vals, old...), run...)
	} else {
		vals = append(append(vals, run...), old...)
	}
	nm := &Match{Span: m.Span, Field: m.Field, Value: &Paren{Span: m.Span, X: &Or{Span: m.Span, Terms: vals, OpPos: make([]int, len(vals)-1)}}}
	var repl Node = nm
	if and, ok := x.Terms[at].(*And); ok {
		terms := append([]Node(nil), and.Terms...)
		if left {
			terms[len(terms)-1] = nm
		} else {
			terms[0] = nm
		}
		repl = &And{Span: and.Span, Terms: terms, OpPos: and.OpPos}
	}
	var terms []Node
	for j, t := range x.Terms {
		switch {
		case j == at:
			terms = append(terms, repl)
		case j >= a && j <= b:
		default:
			terms = append(terms, t)
		}
	}
	if len(terms) == 1 {
		return terms[0], true
	}
	return &Or{Span: x.Span, Terms: terms, OpPos: make([]int, len(terms)-1)}, true
}

func existingValues(v Node) []Node {
	if p, ok := v.(*Paren); ok {
		if o, ok := p.X.(*Or); ok {
			return o.Terms
		}
	}
	return []Node{v}
}

// attachAll attaches every bare run that has a neighbouring field.
func attachAll(x *Or) (Node, bool) {
	var cur Node = x
	changed := false
	for {
		o, ok := cur.(*Or)
		if !ok {
			return cur, changed
		}
		done := true
		for i, t := range o.Terms {
			if isBare(t) {
				if n, ok := attach(o, i); ok {
					cur, changed, done = n, true, false
					break
				}
			}
		}
		if done {
			return cur, changed
		}
	}
}

// knownType resolves a non-wildcard field to its full name when the
// catalog knows it.
func (l *linter) knownType(f *Literal, path string) (string, bool) {
	if l.fields == nil || f.IsWildcard() {
		return "", false
	}
	name := joinPath(path, f.Text)
	_, ok := l.fields.Type(name)
	return name, ok
}

// checkField reports unknown fields, nested misuse and, for matches, values
// of the wrong type.
func (l *linter) checkField(n Node, f *Literal, path string, values Node) {
	if l.fields == nil || f.IsLoneWildcard() {
		return
	}
	name := joinPath(path, f.Text)
	exists := false
	if lit, ok := values.(*Literal); ok && lit.IsLoneWildcard() {
		exists = true
	}
	if f.IsWildcard() {
		stars := fullField(f, path).stars
		for _, k := range l.names {
			if globMatch(k, name, stars) {
				return
			}
		}
		l.add(KindUnknownField, f.Start, nil, "field pattern %s matches no known field", name)
		return
	}
	typ, ok := l.fields.Type(name)
	if !ok {
		var fix Node
		if s := l.closest(name); s != "" && strings.HasPrefix(s, joinPath(path, "")) {
			nf := *f
			nf.Text, nf.Stars = strings.TrimPrefix(s, joinPath(path, "")), nil
			fix = l.rewriteWith(n, withField(n, &nf))
			l.add(KindUnknownField, f.Start, fix, "unknown field %s (did you mean %s?)", name, s)
			return
		}
		l.add(KindUnknownField, f.Start, nil, "unknown field %s", name)
		return
	}
	np, nested := l.fields.NestedPath(name)
	switch {
	case typ == "nested" && path == "":
		l.add(KindNested, f.Start, nil, "%s is a nested field: query its fields inside %s : { ... }", name, name)
		return
	case typ == "object" && !exists:
		l.add(KindTypeMismatch, f.Start, nil, "%s is an object: it holds no value of its own; query one of its fields", name)
		return
	case nested && path == "":
		rest := strings.TrimPrefix(name, np+".")
		nf := *f
		nf.Text = rest
		fix := &Nested{Span: spanOf(n), Path: &Literal{Text: np}, Query: withField(n, &nf)}
		l.add(KindNested, f.Start, l.rewriteWith(n, fix),
			"%s is inside the nested field %s: Kibana refuses it outside %s : { ... }", name, np, np)
		return
	case path != "" && !nested:
		l.add(KindNested, f.Start, nil, "%s is not inside a nested field, but is queried in the nested group %q", name, path)
		return
	case path != "" && np != path:
		l.add(KindNested, f.Start, nil, "%s belongs to the nested group %s, not %s", name, np, path)
		return
	}
	if values != nil {
		l.checkValues(values, name, path)
	}
}

func spanOf(n Node) Span {
	switch x := n.(type) {
	case *Match:
		return x.Span
	case *Range:
		return x.Span
	}
	return Span{}
}

func withField(n Node, f *Literal) Node {
	switch x := n.(type) {
	case *Match:
		c := *x
		c.Field = f
		return &c
	case *Range:
		c := *x
		c.Field = f
		return &c
	}
	return n
}

func (l *linter) checkNestedPath(x *Nested, path, full string) {
	if l.fields == nil {
		return
	}
	typ, ok := l.fields.Type(full)
	switch {
	case !ok:
		var fix Node
		if s := l.closest(full); s != "" && strings.HasPrefix(s, joinPath(path, "")) {
			if t, _ := l.fields.Type(s); t == "nested" {
				np := *x.Path
				np.Text, np.Stars = strings.TrimPrefix(s, joinPath(path, "")), nil
				c := *x
				c.Path = &np
				fix = l.rewriteWith(x, &c)
			}
		}
		l.add(KindUnknownField, x.Path.Start, fix, "unknown nested path %s", full)
	case typ != "nested":
		l.add(KindNested, x.Path.Start, nil, "%s is a %s field, not nested: Elasticsearch rejects a nested query on it", full, typ)
	}
}

func (l *linter) checkValues(v Node, name, path string) {
	switch x := v.(type) {
	case *Or:
		for _, t := range x.Terms {
			l.checkValues(t, name, path)
		}
	case *And:
		for _, t := range x.Terms {
			l.checkValues(t, name, path)
		}
	case *Not:
		l.checkValues(x.X, name, path)
	case *Paren:
		l.checkValues(x.X, name, path)
	case *Literal:
		if !x.IsLoneWildcard() {
			l.checkValue(x, name, path)
		}
	}
}

// checkValue flags a value that a field of the given type can never match.
func (l *linter) checkValue(v *Literal, name, path string) {
	typ, _ := l.fields.Type(name)
	if v.IsWildcard() {
		switch typeClass(typ) {
		case "number", "ip", "date", "boolean":
			l.add(KindTypeMismatch, v.Start, nil,
				"wildcard value %s on %s (%s): Elasticsearch only runs wildcards on keyword, text and wildcard fields", Format(v), name, typ)
		}
		return
	}
	if reason := valueProblem(typ, v.Text); reason != "" {
		l.add(KindTypeMismatch, v.Start, nil, "value %s can never match %s (%s): %s", Format(v), name, typ, reason)
	}
}

func typeClass(esType string) string {
	switch esType {
	case "long", "integer", "short", "byte", "unsigned_long":
		return "number"
	case "double", "float", "half_float", "scaled_float":
		return "number"
	case "ip", "boolean":
		return esType
	case "date", "date_nanos":
		return "date"
	}
	return ""
}

// valueProblem says why text is not a value of esType, or "".
func valueProblem(esType, text string) string {
	switch esType {
	case "long", "integer", "short", "byte", "unsigned_long":
		f, err := strconv.ParseFloat(text, 64)
		switch {
		case err != nil || math.IsInf(f, 0) || math.IsNaN(f):
			return "not a number"
		case f != math.Trunc(f):
			return "not a whole number"
		case esType == "unsigned_long" && f < 0:
			return "negative"
		}
	case "double", "float", "half_float", "scaled_float":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return "not a number"
		}
	case "ip":
		if _, err := netip.ParseAddr(text); err == nil {
			return ""
		}
		if _, err := netip.ParsePrefix(text); err == nil {
			return ""
		}
		return "not an IP address or CIDR range"
	case "boolean":
		if text != "true" && text != "false" && text != "" {
			return "booleans are true or false"
		}
	case "date", "date_nanos":
		// Elasticsearch's default date formats and date math all start with
		// a digit (ISO 8601, epoch milliseconds) or with now.
		if text == "" || !(text[0] >= '0' && text[0] <= '9' || strings.HasPrefix(text, "now")) {
			return "not a date (ISO 8601, epoch milliseconds or now-based date math)"
		}
	}
	return ""
}

// closest suggests a catalog name for an unknown one: the same name in
// another case, or a unique name within two edits.
func (l *linter) closest(name string) string {
	const maxD = 2
	best, bestD, ties := "", maxD+1, 0
	for _, k := range l.names {
		if strings.EqualFold(k, name) {
			return k
		}
		d := editDistance(k, name, maxD+1)
		switch {
		case d > maxD:
		case d < bestD:
			best, bestD, ties = k, d, 1
		case d == bestD:
			ties++
		}
	}
	if ties != 1 || len(name) < 4 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance, giving up (returning limit)
// once it must reach limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			c = min(c, prev[j]+1, cur[j-1]+1)
			cur[j] = c
			rowMin = min(rowMin, c)
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

// replace returns root with the node old (compared by identity) replaced.
func replace(root, old, repl Node) Node {
	if root == old {
		return repl
	}
	switch x := root.(type) {
	case *Or:
		c := *x
		c.Terms = replaceList(x.Terms, old, repl)
		return &c
	case *And:
		c := *x
		c.Terms = replaceList(x.Terms, old, repl)
		return &c
	case *Not:
		c := *x
		c.X = replace(x.X, old, repl)
		return &c
	case *Paren:
		c := *x
		c.X = replace(x.X, old, repl)
		return &c
	case *Match:
		c := *x
		c.Value = replace(x.Value, old, repl)
		return &c
	case *Nested:
		c := *x
		c.Query = replace(x.Query, old, repl)
		return &c
	}
	return root
}

func replaceList(ts []Node, old, repl Node) []Node {
	out := make([]Node, len(ts))
	for i, t := range ts {
		out[i] = replace(t, old, repl)
	}
	return out
}
