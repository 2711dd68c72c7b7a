package kql

import (
	"fmt"
	"sort"
	"strings"
)

// Fields describes the fields a query runs against, in the role a Kibana
// data view plays. Type returns a field's Elasticsearch mapping type
// ("keyword", "wildcard", "constant_keyword", "match_only_text", "text",
// "date", "long", "unsigned_long", "double", "ip", "boolean", "nested",
// "object", ...). Names lists every known field in a stable order.
// NestedPath returns the path of the innermost nested field enclosing name.
type Fields interface {
	Type(name string) (esType string, ok bool)
	Names() []string
	NestedPath(name string) (path string, ok bool)
}

// MapFields is a Fields backed by a map from field name to mapping type.
// Nested paths are the names whose type is "nested".
type MapFields map[string]string

// Type implements Fields.
func (m MapFields) Type(name string) (string, bool) {
	t, ok := m[name]
	return t, ok
}

// Names implements Fields; the names are sorted.
func (m MapFields) Names() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NestedPath implements Fields.
func (m MapFields) NestedPath(name string) (string, bool) {
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == '.' && m[name[:i]] == "nested" {
			return name[:i], true
		}
	}
	return "", false
}

// Options are the Kibana advanced settings that change the translation.
type Options struct {
	// TimeZone is sent as time_zone with queries on date fields (Kibana's
	// dateFormat:tz); empty leaves it out.
	TimeZone string
	// CaseInsensitive, when set, adds case_insensitive to term and
	// wildcard queries on keyword fields (Kibana's caseInsensitive option).
	CaseInsensitive *bool
	// NestedIgnoreUnmapped, when set, adds ignore_unmapped to nested queries.
	NestedIgnoreUnmapped *bool
	// FiltersInMust puts `and` terms in bool.must instead of bool.filter.
	FiltersInMust bool
}

// DefaultOptions are the options Translate uses: UTC, as procbeat's
// documents are in UTC, and Kibana's defaults otherwise.
func DefaultOptions() Options { return Options{TimeZone: "UTC"} }

// TranslateError is a query that parses but cannot be translated, such as a
// nested field used outside its nested group (Kibana refuses these too).
type TranslateError struct {
	Offset int
	Msg    string
}

func (e *TranslateError) Error() string { return fmt.Sprintf("kql: offset %d: %s", e.Offset, e.Msg) }

// Translate turns a parsed query into Elasticsearch Query DSL exactly as
// Kibana 8.9's KQL does (see the package documentation), with
// DefaultOptions. fields may be nil: Kibana without a data view.
func Translate(n Node, fields Fields) (Object, error) {
	return TranslateOptions(n, fields, DefaultOptions())
}

// TranslateOptions is Translate with explicit options.
func TranslateOptions(n Node, fields Fields, opt Options) (Object, error) {
	t := &translator{opt: opt}
	if fields != nil {
		t.dv = dataView(fields)
	}
	return t.query(n, nestCtx{})
}

// nestCtx is the nested group a node sits in. in is set inside any group;
// prefix is the path field names are prefixed with, empty when the group's
// path is JavaScript-falsy (`"" : {...}`, `false : {...}`, `null : {...}`),
// which Kibana then ignores for naming.
type nestCtx struct {
	in     bool
	prefix string
}

// jsString is JavaScript's String(v) for the literal values Kibana uses.
func jsString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return "null"
}

// dvField is one field of the data view: Kibana lists leaf fields and
// multi-fields, never object or nested parents.
type dvField struct {
	name, esType, nested string
	// For a field the data view lacks, Kibana passes the name through as
	// the query had it: value is that name as a JSON value.
	fallback bool
	value    any
}

func (f dvField) jsonName() any {
	if f.fallback {
		return f.value
	}
	return f.name
}

func dataView(f Fields) []dvField {
	names := f.Names()
	out := make([]dvField, 0, len(names))
	for _, n := range names {
		t, ok := f.Type(n)
		if !ok || t == "object" || t == "nested" {
			continue
		}
		p, _ := f.NestedPath(n)
		out = append(out, dvField{name: n, esType: t, nested: p})
	}
	return out
}

type translator struct {
	opt Options
	dv  []dvField // nil without a data view
}

func obj(kv ...any) Object {
	o := make(Object, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		o = append(o, Member{Key: kv[i].(string), Value: kv[i+1]})
	}
	return o
}

func should(qs []any) Object {
	return obj("bool", obj("should", qs, "minimum_should_match", 1))
}

func (t *translator) and(qs []any) Object {
	key := "filter"
	if t.opt.FiltersInMust {
		key = "must"
	}
	return obj("bool", obj(key, qs))
}

func (t *translator) query(n Node, ctx nestCtx) (Object, error) {
	switch x := n.(type) {
	case nil, *Empty:
		return obj("match_all", Object{}), nil
	case *Or, *And, *Not, *Paren:
		return t.logic(n, func(c Node) (Object, error) { return t.query(c, ctx) })
	case *Literal:
		return t.is(nil, x, ctx)
	case *Match:
		return t.logic(x.Value, func(c Node) (Object, error) {
			lit, ok := c.(*Literal)
			if !ok {
				return nil, &TranslateError{c.Pos(), fmt.Sprintf("unexpected %T in a value list", c)}
			}
			return t.is(x.Field, lit, ctx)
		})
	case *Range:
		return t.rangeQuery(x, ctx)
	case *Nested:
		// Kibana keeps an unquoted true, false or null path as a JSON
		// literal, and only prefixes with a truthy enclosing path.
		full := literalValue(x.Path)
		if ctx.prefix != "" {
			full = ctx.prefix + "." + jsString(full)
		}
		inner := nestCtx{in: true}
		if s := jsString(full); full != nil && full != false && s != "" {
			inner.prefix = s
		}
		q, err := t.query(x.Query, inner)
		if err != nil {
			return nil, err
		}
		o := obj("path", full, "query", q, "score_mode", "none")
		if t.opt.NestedIgnoreUnmapped != nil {
			o = append(o, Member{"ignore_unmapped", *t.opt.NestedIgnoreUnmapped})
		}
		return obj("nested", o), nil
	}
	return nil, &TranslateError{n.Pos(), fmt.Sprintf("unexpected node %T", n)}
}

// logic translates the boolean structure shared by queries and value
// lists; leaf does the rest.
func (t *translator) logic(n Node, leaf func(Node) (Object, error)) (Object, error) {
	list := func(terms []Node) ([]any, error) {
		out := make([]any, 0, len(terms))
		for _, c := range terms {
			q, err := t.logic(c, leaf)
			if err != nil {
				return nil, err
			}
			out = append(out, q)
		}
		return out, nil
	}
	switch x := n.(type) {
	case *Or:
		qs, err := list(x.Terms)
		if err != nil {
			return nil, err
		}
		return should(qs), nil
	case *And:
		qs, err := list(x.Terms)
		if err != nil {
			return nil, err
		}
		return t.and(qs), nil
	case *Not:
		q, err := t.logic(x.X, leaf)
		if err != nil {
			return nil, err
		}
		// Kibana writes must_not as a single object, not a list.
		return obj("bool", obj("must_not", q)), nil
	case *Paren:
		return t.logic(x.X, leaf)
	}
	return leaf(n)
}

// fieldRef is a field name resolved against the nested context.
type fieldRef struct {
	name  string
	value any   // the name as Kibana sends it where it is a JSON value
	stars []int // wildcard offsets in name
	wild  bool
	pos   int
}

func fullField(f *Literal, prefix string) fieldRef {
	value := literalValue(f)
	if f.IsWildcard() {
		value = f.Text
	}
	shift := 0
	if prefix != "" {
		value = prefix + "." + jsString(value)
		shift = len(prefix) + 1
	}
	var stars []int
	for _, s := range f.Stars {
		stars = append(stars, s+shift)
	}
	return fieldRef{name: jsString(value), value: value, stars: stars, wild: len(stars) > 0, pos: f.Start}
}

// match finds the data-view fields a (possibly wildcard) name stands for.
func (t *translator) match(r fieldRef) []dvField {
	if t.dv == nil {
		return nil
	}
	var out []dvField
	if !r.wild {
		for _, f := range t.dv {
			if f.name == r.name {
				return []dvField{f}
			}
		}
		return nil
	}
	for _, f := range t.dv {
		if globMatch(f.name, r.name, r.stars) {
			out = append(out, f)
		}
	}
	return out
}

// globMatch reports whether name matches pattern, whose wildcards sit at
// the byte offsets stars (an escaped `\*` stays a plain character). Bytes
// are compared as they are, so names that are not UTF-8 still match.
func globMatch(name, pattern string, stars []int) bool {
	segs := make([]string, 0, len(stars)+1)
	prev := 0
	for _, s := range stars {
		segs = append(segs, pattern[prev:s])
		prev = s + 1
	}
	segs = append(segs, pattern[prev:])
	if len(segs) == 1 {
		return name == pattern
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(name) < len(first)+len(last) || !strings.HasPrefix(name, first) || !strings.HasSuffix(name, last) {
		return false
	}
	rest := name[len(first) : len(name)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		i := strings.Index(rest, seg)
		if i < 0 {
			return false
		}
		rest = rest[i+len(seg):]
	}
	return true
}

// checkNested reproduces Kibana's refusal of nested fields outside their
// nested group and of plain fields inside one. Inside a group whose path is
// falsy (`"" : {...}`) Kibana compares undefined with that path and so
// refuses every known field.
func (t *translator) checkNested(r fieldRef, ctx nestCtx) error {
	if _, ok := r.value.(string); !ok {
		return nil // Kibana looks up true, false and null by identity: never found
	}
	path := ctx.prefix
	if t.dv == nil || (r.wild && path == "") {
		return nil
	}
	var errs []string
	for _, f := range t.match(r) {
		switch {
		case path != "" && f.nested == "":
			errs = append(errs, fmt.Sprintf("%s is not a nested field but is in nested group %q in the KQL expression.", f.name, path))
		case f.nested != "" && path == "":
			errs = append(errs, fmt.Sprintf("%s is a nested field, but is not in a nested group in the KQL expression.", f.name))
		case f.nested != path || (ctx.in && path == ""):
			correct := f.nested
			if correct == "" {
				correct = "undefined"
			}
			errs = append(errs, fmt.Sprintf("Nested field %s is being queried with the incorrect nested path. The correct path is %s.", f.name, correct))
		}
	}
	if len(errs) > 0 {
		return &TranslateError{r.pos, strings.Join(errs, "\n")}
	}
	return nil
}

// fieldsFor returns the data-view fields for r, or r itself as an untyped
// field when none match: Kibana then sends the name through unchanged.
func (t *translator) fieldsFor(r fieldRef) []dvField {
	fs := t.match(r)
	if len(fs) == 0 {
		fs = []dvField{{name: r.name, value: r.value, fallback: true}}
	}
	return fs
}

func (t *translator) wrapNested(q Object, r fieldRef, f dvField, ctx nestCtx) Object {
	if !r.wild || f.nested == "" || ctx.in {
		return q
	}
	o := obj("path", f.nested, "query", q, "score_mode", "none")
	if t.opt.NestedIgnoreUnmapped != nil {
		o = append(o, Member{"ignore_unmapped", *t.opt.NestedIgnoreUnmapped})
	}
	return obj("nested", o)
}

// literalValue is the JSON value Kibana sends: unquoted null, true and
// false are JSON literals, everything else a string (numbers included).
func literalValue(l *Literal) any {
	if !l.Quoted && !l.IsWildcard() {
		switch l.Text {
		case "null":
			return nil
		case "true":
			return true
		case "false":
			return false
		}
	}
	return l.Text
}

// queryStringValue escapes a wildcard literal for query_string, keeping the
// wildcards.
func queryStringValue(l *Literal) string {
	var b strings.Builder
	prev := 0
	for _, s := range l.Stars {
		b.WriteString(escapeQueryString(l.Text[prev:s]))
		b.WriteByte('*')
		prev = s + 1
	}
	b.WriteString(escapeQueryString(l.Text[prev:]))
	return b.String()
}

func escapeQueryString(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`+-=&|><!(){}[]^"~*?:\/`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isDate(esType string) bool { return esType == "date" || esType == "date_nanos" }

// is translates `field : value` (field nil for a bare value): Kibana's `is`.
func (t *translator) is(field *Literal, v *Literal, ctx nestCtx) (Object, error) {
	path := ctx.prefix
	exists := v.IsLoneWildcard()
	if exists && field != nil && field.IsLoneWildcard() {
		return obj("match_all", Object{}), nil
	}
	value := literalValue(v)
	bare := field == nil || (!field.Quoted && !field.IsWildcard() && field.Text == "null")
	if bare && path == "" {
		if v.IsWildcard() {
			return obj("query_string", obj("query", queryStringValue(v))), nil
		}
		typ := "best_fields"
		if v.Quoted {
			typ = "phrase"
		}
		return obj("multi_match", obj("type", typ, "query", value, "lenient", true)), nil
	}
	var r fieldRef
	if bare {
		// Kibana glues the nested path to the missing field name.
		r = fieldRef{name: path + ".null", value: path + ".null", pos: v.Start}
	} else {
		r = fullField(field, path)
	}
	if err := t.checkNested(r, ctx); err != nil {
		return nil, err
	}
	fs := t.fieldsFor(r)
	if exists && t.dv != nil && len(fs) == len(t.dv) {
		return obj("match_all", Object{}), nil
	}
	qs := make([]any, 0, len(fs))
	for _, f := range fs {
		keyword := f.esType == "keyword"
		var q Object
		switch {
		case exists:
			q = obj("exists", obj("field", f.jsonName()))
		case v.IsWildcard() && keyword:
			inner := obj("value", value)
			if t.opt.CaseInsensitive != nil {
				inner = append(inner, Member{"case_insensitive", *t.opt.CaseInsensitive})
			}
			q = obj("wildcard", obj(f.name, inner))
		case v.IsWildcard():
			q = obj("query_string", obj("fields", []any{f.jsonName()}, "query", queryStringValue(v)))
		case isDate(f.esType):
			inner := obj("gte", value, "lte", value)
			if t.opt.TimeZone != "" {
				inner = append(inner, Member{"time_zone", t.opt.TimeZone})
			}
			q = obj("range", obj(f.name, inner))
		case keyword:
			inner := obj("value", value)
			if t.opt.CaseInsensitive != nil {
				inner = append(inner, Member{"case_insensitive", *t.opt.CaseInsensitive})
			}
			q = obj("term", obj(f.name, inner))
		case v.Quoted:
			q = obj("match_phrase", obj(f.name, value))
		default:
			q = obj("match", obj(f.name, value))
		}
		qs = append(qs, t.wrapNested(q, r, f, ctx))
	}
	return should(qs), nil
}

var rangeKeys = map[string]string{"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}

func (t *translator) rangeQuery(x *Range, ctx nestCtx) (Object, error) {
	r := fullField(x.Field, ctx.prefix)
	if err := t.checkNested(r, ctx); err != nil {
		return nil, err
	}
	key, ok := rangeKeys[x.Op]
	if !ok {
		return nil, &TranslateError{x.Start, fmt.Sprintf("unknown range operator %q", x.Op)}
	}
	value := literalValue(x.Value)
	fs := t.fieldsFor(r)
	qs := make([]any, 0, len(fs))
	for _, f := range fs {
		inner := obj(key, value)
		if isDate(f.esType) && t.opt.TimeZone != "" {
			inner = append(inner, Member{"time_zone", t.opt.TimeZone})
		}
		qs = append(qs, t.wrapNested(obj("range", obj(f.name, inner)), r, f, ctx))
	}
	return should(qs), nil
}

// TranslateQuery parses query and translates it with DefaultOptions.
func TranslateQuery(query string, fields Fields) (Object, error) {
	n, err := Parse(query)
	if err != nil {
		return nil, err
	}
	return Translate(n, fields)
}
