package kql

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDepth bounds parenthesis and nested-query depth so a hostile query
// cannot exhaust the stack; Kibana itself stops somewhere in the thousands.
const maxDepth = 500

// SyntaxError is a query that does not parse. Offset is a byte offset into
// Query; Line and Col (1-based, Col counted in characters) locate it for
// people. Expected lists what the grammar would have accepted there.
type SyntaxError struct {
	Query    string
	Offset   int
	Line     int
	Col      int
	Expected []string
	Found    string
	Detail   string // set for errors that are not about the next token
}

func (e *SyntaxError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("kql: line %d column %d (offset %d): %s", e.Line, e.Col, e.Offset, e.Detail)
	}
	return fmt.Sprintf("kql: line %d column %d (offset %d): expected %s but %s found",
		e.Line, e.Col, e.Offset, strings.Join(e.Expected, ", "), e.Found)
}

// Parse parses a KQL query as Kibana 8.x does: `not` binds tighter than
// `and`, `and` tighter than `or`; keywords are case-insensitive; unquoted
// values may contain spaces and end at a keyword, a special character or the
// end of the query. The empty query parses to Empty (match_all).
func Parse(query string) (Node, error) {
	p := &parser{src: query}
	p.spaces()
	if p.pos == len(p.src) {
		return &Empty{Span{0, len(query)}}, nil
	}
	start := p.pos
	n, ok := p.orQuery(false)
	if !ok {
		// The grammar's query is optional: without one it wants the end.
		p.pos = start
	}
	p.spaces()
	if ok && p.pos == len(p.src) {
		return n, nil
	}
	p.fail(p.pos, "end of input")
	return nil, p.error()
}

type parser struct {
	src      string
	pos      int
	depth    int
	failPos  int
	expected []string
	tooDeep  int // offset where maxDepth was passed, or 0
}

// fail records that `what` was expected at pos; like a PEG parser the error
// reported is the one that got furthest into the input.
func (p *parser) fail(pos int, what string) {
	if pos < p.failPos {
		return
	}
	if pos > p.failPos {
		p.failPos = pos
		p.expected = p.expected[:0]
	}
	for _, e := range p.expected {
		if e == what {
			return
		}
	}
	p.expected = append(p.expected, what)
}

func (p *parser) error() *SyntaxError {
	e := &SyntaxError{Query: p.src, Offset: p.failPos}
	if p.tooDeep > 0 {
		e.Offset = p.tooDeep
		e.Detail = fmt.Sprintf("nesting deeper than %d levels", maxDepth)
	}
	e.Line, e.Col = LineCol(p.src, e.Offset)
	e.Expected = append([]string(nil), p.expected...)
	sort.Strings(e.Expected)
	if e.Offset >= len(p.src) {
		e.Found = "end of input"
	} else {
		r, _ := utf8.DecodeRuneInString(p.src[e.Offset:])
		e.Found = fmt.Sprintf("%q", string(r))
	}
	return e
}

// LineCol converts a byte offset into a 1-based line and column (in
// characters).
func LineCol(s string, off int) (line, col int) {
	if off > len(s) {
		off = len(s)
	}
	line = 1 + strings.Count(s[:off], "\n")
	start := strings.LastIndexByte(s[:off], '\n') + 1
	return line, 1 + utf8.RuneCountInString(s[start:off])
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// spaces consumes Space*.
func (p *parser) spaces() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
	p.fail(p.pos, "whitespace")
}

func (p *parser) char(c byte) bool {
	if p.pos < len(p.src) && p.src[p.pos] == c {
		p.pos++
		return true
	}
	p.fail(p.pos, quoteByte(c))
	return false
}

// quoteByte is the expectation label of a punctuation byte, without a
// formatting allocation per attempt.
func quoteByte(c byte) string {
	switch c {
	case '(':
		return `"("`
	case ')':
		return `")"`
	case ':':
		return `":"`
	case '{':
		return `"{"`
	case '}':
		return `"}"`
	}
	return strconv.Quote(string(c))
}

// matchKeyword reports whether the keyword rule `Space+ word Space+` (or
// `word Space+` when lead is false) matches at i, and where it ends.
func matchKeyword(s string, i int, word string, lead bool) (kw, end int, ok bool) {
	j := i
	if lead {
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j == i {
			return 0, 0, false
		}
	}
	if len(s)-j < len(word) || !strings.EqualFold(s[j:j+len(word)], word) {
		return 0, 0, false
	}
	kw = j
	j += len(word)
	k := j
	for k < len(s) && isSpace(s[k]) {
		k++
	}
	if k == j {
		return 0, 0, false
	}
	return kw, k, true
}

// isKeywordAt is the grammar's Keyword rule, which stops unquoted literals.
func isKeywordAt(s string, i int) bool {
	if _, _, ok := matchKeyword(s, i, "or", true); ok {
		return true
	}
	if _, _, ok := matchKeyword(s, i, "and", true); ok {
		return true
	}
	_, _, ok := matchKeyword(s, i, "not", false)
	return ok
}

func (p *parser) keyword(word, label string, lead bool) (kw int, ok bool) {
	kw, end, ok := matchKeyword(p.src, p.pos, word, lead)
	if !ok {
		p.fail(p.pos, label)
		return 0, false
	}
	p.pos = end
	return kw, true
}

// orQuery parses OrQuery (values=false) or OrListOfValues (values=true).
func (p *parser) orQuery(values bool) (Node, bool) {
	start := p.pos
	terms, ops, ok := p.chain(values, "or", "OR", p.andQuery)
	if !ok || len(terms) == 1 {
		return first(terms), ok
	}
	return &Or{Span: Span{start, endOf(terms[len(terms)-1])}, Terms: terms, OpPos: ops}, true
}

func (p *parser) andQuery(values bool) (Node, bool) {
	start := p.pos
	terms, ops, ok := p.chain(values, "and", "AND", p.notQuery)
	if !ok || len(terms) == 1 {
		return first(terms), ok
	}
	return &And{Span: Span{start, endOf(terms[len(terms)-1])}, Terms: terms, OpPos: ops}, true
}

// chain parses `term (kw term)*`: the operands of one precedence level and
// the positions of their keywords. A keyword not followed by a term is
// left unread.
func (p *parser) chain(values bool, lower, upper string, term func(bool) (Node, bool)) ([]Node, []int, bool) {
	head, ok := term(values)
	if !ok {
		return nil, nil, false
	}
	terms := []Node{head}
	var ops []int
	for {
		save := p.pos
		kw, ok := p.keyword(lower, upper, true)
		if !ok {
			break
		}
		t, ok := term(values)
		if !ok {
			p.pos = save
			break
		}
		terms = append(terms, t)
		ops = append(ops, kw)
	}
	return terms, ops, true
}

func first(terms []Node) Node {
	if len(terms) == 0 {
		return nil
	}
	return terms[0]
}

func (p *parser) notQuery(values bool) (Node, bool) {
	start := p.pos
	if _, ok := p.keyword("not", "NOT", false); ok {
		if x, ok := p.subQuery(values); ok {
			return &Not{Span: Span{start, endOf(x)}, X: x}, true
		}
		// The grammar's second choice starts over without `not`; it cannot
		// succeed (an unquoted literal may not start with `not `) but it
		// records what was expected there, as Kibana reports.
		p.pos = start
	}
	return p.subQuery(values)
}

// subQuery parses SubQuery/NestedQuery/Expression, or ListOfValues when
// values is true.
func (p *parser) subQuery(values bool) (Node, bool) {
	start := p.pos
	if p.char('(') {
		if p.depth >= maxDepth {
			if p.tooDeep == 0 {
				p.tooDeep = start
			}
			return nil, false
		}
		p.depth++
		p.spaces()
		x, ok := p.orQuery(values)
		if ok {
			p.spaces()
			ok = p.char(')')
		}
		p.depth--
		if ok {
			return &Paren{Span: Span{start, p.pos}, X: x}, true
		}
		p.pos = start
	}
	if values {
		return p.value()
	}
	return p.expression()
}

// value parses Value: a quoted or unquoted literal.
func (p *parser) value() (Node, bool) {
	l, ok := p.literal()
	if !ok {
		p.fail(p.pos, "value")
		return nil, false
	}
	return l, true
}

var rangeOps = []string{"<=", ">=", "<", ">"}

var rangeLabels = []string{`"<="`, `">="`, `"<"`, `">"`}

func (p *parser) expression() (Node, bool) {
	start := p.pos
	field, ok := p.literal()
	if !ok {
		p.fail(start, "field name")
		p.fail(start, "value")
		return nil, false
	}
	afterField := p.pos
	p.spaces()
	if p.char(':') {
		p.spaces()
		if p.char('{') {
			if p.depth >= maxDepth {
				if p.tooDeep == 0 {
					p.tooDeep = start
				}
				return nil, false
			}
			p.depth++
			p.spaces()
			q, ok := p.orQuery(false)
			if ok {
				p.spaces()
				ok = p.char('}')
			}
			p.depth--
			if !ok {
				return nil, false
			}
			return &Nested{Span: Span{start, p.pos}, Path: field, Query: q}, true
		}
		v, ok := p.subQuery(true)
		if !ok {
			return nil, false
		}
		return &Match{Span: Span{start, endOf(v)}, Field: field, Value: v}, true
	}
	for i, op := range rangeOps {
		if strings.HasPrefix(p.src[p.pos:], op) {
			p.pos += len(op)
			p.spaces()
			v, ok := p.literal()
			if !ok {
				p.fail(p.pos, "literal")
				return nil, false
			}
			return &Range{Span: Span{start, v.End}, Field: field, Op: op, Value: v}, true
		}
		p.fail(p.pos, rangeLabels[i])
	}
	// A bare value: give back the blanks after it to the keyword rules.
	p.pos = afterField
	return field, true
}

// literal parses QuotedString / UnquotedLiteral without recording
// expectations (the grammar names these rules, hiding their insides).
func (p *parser) literal() (*Literal, bool) {
	if l, ok := p.quoted(); ok {
		return l, true
	}
	return p.unquoted()
}

func (p *parser) quoted() (*Literal, bool) {
	s, start := p.src, p.pos
	if start >= len(s) || s[start] != '"' {
		return nil, false
	}
	var b strings.Builder
	var pend rune = -1 // pending high surrogate from a \u escape
	i := start + 1
	for i < len(s) {
		c := s[i]
		if c == '"' {
			flushSurrogate(&b, &pend)
			p.pos = i + 1
			return &Literal{Span: Span{start, p.pos}, Text: b.String(), Quoted: true}, true
		}
		if c == '\\' && i+1 < len(s) {
			if r, n, ok := escapedUnicode(s, i); ok {
				addUnit(&b, &pend, r)
				i += n
				continue
			}
			switch s[i+1] {
			case 't', 'r', 'n':
				flushSurrogate(&b, &pend)
				b.WriteByte(unescapeWS(s[i+1]))
				i += 2
				continue
			case '\\', '"':
				flushSurrogate(&b, &pend)
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
		}
		flushSurrogate(&b, &pend)
		i += writeRaw(&b, s[i:])
	}
	return nil, false
}

const specialChars = "\\():<>\"*{}"

func (p *parser) unquoted() (*Literal, bool) {
	s, start := p.src, p.pos
	var b strings.Builder
	var stars []int
	var pend rune = -1
	i := start
loop:
	for i < len(s) {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			n := s[i+1]
			switch {
			case n == 't' || n == 'r' || n == 'n':
				flushSurrogate(&b, &pend)
				b.WriteByte(unescapeWS(n))
				i += 2
				continue
			case strings.IndexByte(specialChars, n) >= 0:
				flushSurrogate(&b, &pend)
				b.WriteByte(n)
				i += 2
				continue
			}
			if r, w, ok := escapedUnicode(s, i); ok {
				addUnit(&b, &pend, r)
				i += w
				continue
			}
			for _, kw := range [...]string{"or", "and", "not"} {
				if len(s)-(i+1) >= len(kw) && strings.EqualFold(s[i+1:i+1+len(kw)], kw) {
					flushSurrogate(&b, &pend)
					b.WriteString(s[i+1 : i+1+len(kw)])
					i += 1 + len(kw)
					continue loop
				}
			}
			break
		}
		if c == '*' {
			flushSurrogate(&b, &pend)
			stars = append(stars, b.Len())
			b.WriteByte('*')
			i++
			continue
		}
		if strings.IndexByte(specialChars, c) >= 0 || isKeywordAt(s, i) {
			break
		}
		flushSurrogate(&b, &pend)
		i += writeRaw(&b, s[i:])
	}
	flushSurrogate(&b, &pend)
	if i == start {
		return nil, false
	}
	p.pos = i
	text, stars := jsTrim(b.String(), stars)
	return &Literal{Span: Span{start, i}, Text: text, Stars: stars}, true
}

// writeRaw copies one character (or one invalid byte) and returns its width.
func writeRaw(b *strings.Builder, s string) int {
	_, w := utf8.DecodeRuneInString(s)
	b.WriteString(s[:w])
	return w
}

func unescapeWS(c byte) byte {
	switch c {
	case 't':
		return '\t'
	case 'r':
		return '\r'
	}
	return '\n'
}

// escapedUnicode decodes `\uXXXX` at s[i:], a UTF-16 code unit.
func escapedUnicode(s string, i int) (rune, int, bool) {
	if len(s)-i < 6 || s[i] != '\\' || s[i+1] != 'u' {
		return 0, 0, false
	}
	var r rune
	for _, c := range []byte(s[i+2 : i+6]) {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, 6, true
}

// addUnit appends a UTF-16 code unit, pairing surrogates written as two
// escapes. A lone surrogate (which JavaScript would keep) becomes U+FFFD:
// Go strings hold UTF-8, which cannot carry it.
func addUnit(b *strings.Builder, pend *rune, r rune) {
	switch {
	case r >= 0xD800 && r < 0xDC00:
		flushSurrogate(b, pend)
		*pend = r
	case r >= 0xDC00 && r < 0xE000:
		if *pend >= 0 {
			b.WriteRune(0x10000 + (*pend-0xD800)<<10 + (r - 0xDC00))
			*pend = -1
		} else {
			b.WriteRune(utf8.RuneError)
		}
	default:
		flushSurrogate(b, pend)
		b.WriteRune(r)
	}
}

func flushSurrogate(b *strings.Builder, pend *rune) {
	if *pend >= 0 {
		b.WriteRune(utf8.RuneError)
		*pend = -1
	}
}

// isJSSpace is JavaScript's String.prototype.trim notion of blank.
func isJSSpace(r rune) bool {
	return r == 0xFEFF || (r != 0x85 && unicode.IsSpace(r))
}

// jsTrim trims like JavaScript's trim and shifts the wildcard offsets.
func jsTrim(s string, stars []int) (string, []int) {
	t := strings.TrimLeftFunc(s, isJSSpace)
	cut := len(s) - len(t)
	t = strings.TrimRightFunc(t, isJSSpace)
	if len(stars) == 0 {
		return t, nil
	}
	out := stars[:0]
	for _, o := range stars {
		out = append(out, o-cut)
	}
	return t, out
}

func endOf(n Node) int {
	switch x := n.(type) {
	case *Or:
		return x.End
	case *And:
		return x.End
	case *Not:
		return x.End
	case *Paren:
		return x.End
	case *Match:
		return x.End
	case *Range:
		return x.End
	case *Nested:
		return x.End
	case *Literal:
		return x.End
	case *Empty:
		return x.End
	}
	return 0
}
