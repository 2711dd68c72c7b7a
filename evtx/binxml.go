package evtx

import (
	"encoding/binary"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/procbeat/procbeat/internal/utf16le"
)

// BinXML tokens (MS-EVEN6 2.2.12). The 0x40 bit on some tokens means "more
// data follows" (attributes) and is otherwise informational.
const (
	tokEOF            = 0x00
	tokOpenStart      = 0x01
	tokCloseStart     = 0x02
	tokCloseEmpty     = 0x03
	tokEndElement     = 0x04
	tokValue          = 0x05
	tokAttribute      = 0x06
	tokCDATA          = 0x07
	tokCharRef        = 0x08
	tokEntityRef      = 0x09
	tokPITarget       = 0x0a
	tokPIData         = 0x0b
	tokTemplate       = 0x0c
	tokNormalSubst    = 0x0d
	tokOptionalSubst  = 0x0e
	tokFragmentHeader = 0x0f
	tokMore           = 0x40
)

type nodeKind uint8

const (
	nElem     nodeKind = iota + 1
	nAttr              // attribute: name; first = value parts
	nText              // literal text (value text; char and entity refs resolved)
	nCDATA             // CDATA section
	nEntity            // entity reference kept by name for XML output
	nSubst             // substitution: sub, typ, opt
	nPI                // processing instruction: name = target, text = data
	nInstance          // template instance inside raw BinXML: tmpl, valOff
)

// node is one entry of a decoded BinXML tree. Trees live in a per-chunk
// arena and link by index, so decoding a template allocates nothing once
// the arena has grown to its working size.
type node struct {
	kind         nodeKind
	typ          uint8 // substitution value type (as declared)
	opt          bool  // optional substitution
	sub          uint16
	first        int32 // first child (element), first value part (attribute)
	attr         int32 // first attribute (element)
	next         int32 // next sibling
	tmpl         int32 // template index (instance)
	vstart, vend int32 // instance values in decoder.vals
	name         string
	text         string // char and entity references
	// Value text, CDATA and PI data stay in the chunk as UTF-16 and are
	// decoded only when rendered.
	toff, tlen int32
}

// template is a decoded template definition, cached per chunk by offset.
type template struct {
	root     int32 // first top-level node
	provName int32 // Event/System/Provider/@Name attribute node, or -1
	eventID  int32 // Event/System/EventID element node, or -1
	err      error
	busy     bool // being decoded: a reference now is a recursion

	plans    int32    // first plan in decoder.plans (plan.go), or -1
	provLast strCache // provider name of the last record
}

// parser decodes BinXML from a chunk into the decoder's node arena.
type parser struct {
	d          *decoder
	c          cursor
	inTemplate bool // template bodies carry a dependency id on elements
	depth      int  // instance nesting
}

func (d *decoder) newNode(k nodeKind) (int32, error) {
	if len(d.nodes) >= maxNodesPerChunk {
		return -1, ErrTooLarge
	}
	// Field by field: storing a whole node (it holds strings) costs a bulk
	// write barrier while the GC marks.
	i := len(d.nodes)
	if i < cap(d.nodes) {
		d.nodes = d.nodes[:i+1]
	} else {
		d.nodes = append(d.nodes, node{})
	}
	nd := &d.nodes[i]
	nd.kind, nd.typ, nd.opt, nd.sub = k, 0, false, 0
	nd.first, nd.attr, nd.next, nd.tmpl = -1, -1, -1, -1
	nd.vstart, nd.vend, nd.toff, nd.tlen = 0, 0, 0, 0
	if nd.name != "" {
		nd.name = ""
	}
	if nd.text != "" {
		nd.text = ""
	}
	return int32(i), nil
}

// nameAt reads the name structure at a chunk offset: next offset (4), hash
// (2), character count (2), UTF-16 characters, NUL. Names are cached per
// chunk and interned across chunks.
func (d *decoder) nameAt(off uint32) (string, int, error) {
	if i, ok := d.nameIdx.get(off); ok {
		e := &d.names[i]
		return e.s, e.size, nil
	}
	o := int(off)
	if o < chunkHeaderSize || o+8 > len(d.chunk) {
		return "", 0, fmt.Errorf("name at %#x: %w", off, ErrBadOffset)
	}
	n := int(binary.LittleEndian.Uint16(d.chunk[o+6:]))
	if o+8+2*n > len(d.chunk) {
		return "", 0, fmt.Errorf("name at %#x: %w", off, ErrTruncated)
	}
	d.scratch = utf16le.Append(d.scratch[:0], d.chunk[o+8:o+8+2*n])
	s := d.intern(d.scratch)
	size := 8 + 2*n + 2
	d.nameIdx.set(off, int32(len(d.names)))
	d.names = append(d.names, nameEntry{s, size})
	return s, size, nil
}

// name reads a name reference; a name defined inline (its offset is the
// current position) is skipped over.
func (p *parser) name() (string, error) {
	at := p.c.off
	off := p.c.u32()
	if p.c.err != nil {
		return "", p.c.err
	}
	s, size, err := p.d.nameAt(off)
	if err != nil {
		return "", err
	}
	if int(off) == at+4 {
		p.c.skip(size)
	}
	return s, p.c.err
}

// utf16Text reads a character count and that many UTF-16 characters and
// records where they are in the chunk: text is decoded only when rendered,
// so decoding a tree allocates no strings.
func (p *parser) utf16Text(n int32) {
	count := int(p.c.u16())
	at := p.c.off
	p.c.bytes(2 * count)
	if p.c.err != nil {
		return
	}
	p.d.nodes[n].toff = int32(at)
	p.d.nodes[n].tlen = int32(2 * count)
}

// hasDependencyID decides whether the element at the cursor carries the
// 2-byte dependency id. Template bodies always do; other BinXML normally does
// not, but some writers (WEC forwarding) differ, so the name offset decides:
// it must point at the inline name or backwards into the chunk.
func (p *parser) hasDependencyID() bool {
	s := p.c.off
	fits := func(nameAt int) bool {
		if nameAt+4 > p.c.end || nameAt+4 > len(p.c.b) {
			return false
		}
		off := int(binary.LittleEndian.Uint32(p.c.b[nameAt:]))
		return off == nameAt+4 || (off >= chunkHeaderSize && off < s)
	}
	if p.inTemplate {
		return fits(s+6) || !fits(s+4)
	}
	return !fits(s+4) && fits(s+6)
}

func (p *parser) element(hasAttrs bool, depth int) (int32, error) {
	if depth > maxElementDepth {
		return -1, ErrDepth
	}
	if p.hasDependencyID() {
		p.c.skip(2)
	}
	p.c.u32() // data size
	name, err := p.name()
	if err != nil {
		return -1, err
	}
	el, err := p.d.newNode(nElem)
	if err != nil {
		return -1, err
	}
	p.d.nodes[el].name = name
	if hasAttrs {
		p.c.u32() // attribute list size
		var last int32 = -1
		for {
			t, ok := p.c.peek()
			if !ok || t&^tokMore != tokAttribute {
				break
			}
			p.c.off++
			a, err := p.attribute()
			if err != nil {
				return -1, err
			}
			if last < 0 {
				p.d.nodes[el].attr = a
			} else {
				p.d.nodes[last].next = a
			}
			last = a
		}
	}
	switch t := p.c.u8(); t {
	case tokCloseStart:
		first, err := p.content(depth, false)
		if err != nil {
			return -1, err
		}
		p.d.nodes[el].first = first
	case tokCloseEmpty:
	default:
		if p.c.err != nil {
			return -1, p.c.err
		}
		return -1, fmt.Errorf("token %#02x after element start at %#x: %w", t, p.c.off-1, ErrBadToken)
	}
	return el, p.c.err
}

func (p *parser) attribute() (int32, error) {
	name, err := p.name()
	if err != nil {
		return -1, err
	}
	a, err := p.d.newNode(nAttr)
	if err != nil {
		return -1, err
	}
	p.d.nodes[a].name = name
	var last int32 = -1
	for {
		t, ok := p.c.peek()
		if !ok {
			break
		}
		var part int32
		switch t {
		case tokValue, tokValue | tokMore, tokCharRef, tokCharRef | tokMore, tokEntityRef, tokEntityRef | tokMore,
			tokCDATA, tokCDATA | tokMore, tokNormalSubst, tokOptionalSubst:
			p.c.off++
			part, err = p.leaf(t)
			if err != nil {
				return -1, err
			}
		default:
			return a, p.c.err
		}
		if last < 0 {
			p.d.nodes[a].first = part
		} else {
			p.d.nodes[last].next = part
		}
		last = part
	}
	return a, p.c.err
}

// leaf decodes a value-like token (the token byte is already consumed).
func (p *parser) leaf(t uint8) (int32, error) {
	var n int32
	var err error
	switch t &^ tokMore {
	case tokValue:
		p.c.u8() // value type, always string
		if n, err = p.d.newNode(nText); err == nil {
			p.utf16Text(n)
		}
	case tokCDATA:
		if n, err = p.d.newNode(nCDATA); err == nil {
			p.utf16Text(n)
		}
	case tokCharRef:
		r := rune(p.c.u16())
		if n, err = p.d.newNode(nText); err == nil {
			p.d.nodes[n].text = string(utf8.AppendRune(nil, r))
		}
	case tokEntityRef:
		var name string
		if name, err = p.name(); err == nil {
			if n, err = p.d.newNode(nEntity); err == nil {
				p.d.nodes[n].name = name
				p.d.nodes[n].text = entityText(name)
			}
		}
	case tokNormalSubst, tokOptionalSubst:
		if n, err = p.d.newNode(nSubst); err == nil {
			p.d.nodes[n].sub = p.c.u16()
			p.d.nodes[n].typ = p.c.u8()
			p.d.nodes[n].opt = t == tokOptionalSubst
		}
	}
	if err != nil {
		return -1, err
	}
	return n, p.c.err
}

func entityText(name string) string {
	switch name {
	case "amp":
		return "&"
	case "lt":
		return "<"
	case "gt":
		return ">"
	case "quot":
		return `"`
	case "apos":
		return "'"
	}
	return "&" + name + ";"
}

// content decodes element content (or, at top level, a whole fragment) up to
// the matching end element (or EOF / end of data at top level).
func (p *parser) content(depth int, top bool) (int32, error) {
	var head, last int32 = -1, -1
	add := func(n int32) {
		if last < 0 {
			head = n
		} else {
			p.d.nodes[last].next = n
		}
		last = n
	}
	for {
		if p.c.err != nil {
			return -1, p.c.err
		}
		if p.c.off >= p.c.end {
			if top {
				return head, nil
			}
			return -1, fmt.Errorf("element not closed: %w", ErrTruncated)
		}
		t := p.c.u8()
		var n int32 = -1
		var err error
		switch t {
		case tokEOF:
			if top {
				return head, nil
			}
			return -1, fmt.Errorf("end of fragment inside element at %#x: %w", p.c.off-1, ErrBadToken)
		case tokEndElement:
			if top {
				return -1, fmt.Errorf("end element at top level at %#x: %w", p.c.off-1, ErrBadToken)
			}
			return head, nil
		case tokFragmentHeader:
			p.c.skip(3)
			continue
		case tokOpenStart, tokOpenStart | tokMore:
			n, err = p.element(t&tokMore != 0, depth+1)
		case tokValue, tokValue | tokMore, tokCDATA, tokCDATA | tokMore, tokCharRef, tokCharRef | tokMore,
			tokEntityRef, tokEntityRef | tokMore, tokNormalSubst, tokOptionalSubst:
			n, err = p.leaf(t)
		case tokPITarget:
			var target string
			if target, err = p.name(); err == nil {
				if n, err = p.d.newNode(nPI); err == nil {
					p.d.nodes[n].name = target
					if b, ok := p.c.peek(); ok && b == tokPIData {
						p.c.off++
						p.utf16Text(n)
					}
				}
			}
		case tokPIData:
			if n, err = p.d.newNode(nPI); err == nil {
				p.utf16Text(n)
			}
		case tokTemplate:
			if p.inTemplate {
				return -1, fmt.Errorf("template instance inside a template at %#x: %w", p.c.off-1, ErrRecursion)
			}
			n, err = p.instanceNode()
		default:
			return -1, fmt.Errorf("token %#02x at %#x: %w", t, p.c.off-1, ErrBadToken)
		}
		if err != nil {
			return -1, err
		}
		if p.c.err != nil {
			return -1, p.c.err
		}
		add(n)
	}
}

// instanceHeader reads a template instance header (after the token byte)
// and returns the template and the chunk offset of the value count.
func (p *parser) instanceHeader() (int32, int, error) {
	p.c.u8()  // unknown, 1
	p.c.u32() // template id
	at := p.c.off
	def := p.c.u32()
	if p.c.err != nil {
		return -1, 0, p.c.err
	}
	if int(def) == at+4 {
		// Definition inline: next offset, GUID, size, body.
		p.c.skip(4 + 16)
		size := p.c.u32()
		p.c.skip(int(size))
		if p.c.err != nil {
			return -1, 0, fmt.Errorf("inline template at %#x: %w", def, p.c.err)
		}
	}
	ti, err := p.d.template(def, p.depth)
	if err != nil {
		return -1, 0, err
	}
	return ti, p.c.off, nil
}

func (p *parser) instanceNode() (int32, error) {
	if p.depth >= maxInstanceDepth {
		return -1, ErrDepth
	}
	ti, valOff, err := p.instanceHeader()
	if err != nil {
		return -1, err
	}
	// The values are read now (which also moves past them) and stay in
	// d.vals for the rest of the record.
	vs, ve, err := p.d.readValues(&p.c, valOff)
	if err != nil {
		return -1, err
	}
	n, err := p.d.newNode(nInstance)
	if err != nil {
		return -1, err
	}
	p.d.nodes[n].tmpl = ti
	p.d.nodes[n].vstart = int32(vs)
	p.d.nodes[n].vend = int32(ve)
	return n, nil
}

// template returns the index of the template defined at a chunk offset,
// decoding it on first use.
func (d *decoder) template(off uint32, depth int) (int32, error) {
	if ti, ok := d.tmplIdx.get(off); ok {
		t := &d.templates[ti]
		if t.busy {
			return -1, fmt.Errorf("template at %#x: %w", off, ErrRecursion)
		}
		return ti, t.err
	}
	o := int(off)
	if o < chunkHeaderSize || o+24 > len(d.chunk) {
		return -1, fmt.Errorf("template at %#x: %w", off, ErrBadOffset)
	}
	size := int(binary.LittleEndian.Uint32(d.chunk[o+20:]))
	if size > len(d.chunk)-o-24 {
		return -1, fmt.Errorf("template at %#x size %d: %w", off, size, ErrTruncated)
	}
	d.templates = append(d.templates, template{root: -1, provName: -1, eventID: -1, plans: -1, busy: true})
	ti := int32(len(d.templates) - 1)
	d.tmplIdx.set(off, ti)
	p := parser{d: d, c: cursor{b: d.chunk, off: o + 24, end: o + 24 + size}, inTemplate: true, depth: depth + 1}
	root, err := p.content(0, true)
	t := &d.templates[ti]
	t.busy = false
	if err != nil {
		t.err = fmt.Errorf("template at %#x: %w", off, err)
		return -1, t.err
	}
	t.root = root
	t.provName, t.eventID = d.staticRefs(root)
	return ti, nil
}

// staticRefs finds Provider/@Name and EventID in a template so a filter can
// run before the rest of the record is decoded.
func (d *decoder) staticRefs(root int32) (prov, eid int32) {
	prov, eid = -1, -1
	ev := d.child(root, "Event")
	if ev < 0 {
		return
	}
	sys := d.child(d.nodes[ev].first, "System")
	if sys < 0 {
		return
	}
	if p := d.child(d.nodes[sys].first, "Provider"); p >= 0 {
		for a := d.nodes[p].attr; a >= 0; a = d.nodes[a].next {
			if d.nodes[a].name == "Name" {
				prov = a
			}
		}
	}
	eid = d.child(d.nodes[sys].first, "EventID")
	return
}

func (d *decoder) child(first int32, name string) int32 {
	for n := first; n >= 0; n = d.nodes[n].next {
		if d.nodes[n].kind == nElem && d.nodes[n].name == name {
			return n
		}
	}
	return -1
}

// value is one substitution value: its type and chunk byte range.
type value struct {
	typ  uint8
	off  int32
	size int32
}

// readValues reads a value count, the descriptors and the values at off,
// appends them to d.vals and returns their index range. c is advanced past
// the values.
func (d *decoder) readValues(c *cursor, off int) (int, int, error) {
	c.off = off
	n := int(c.u32())
	if c.err != nil {
		return 0, 0, c.err
	}
	if n > (c.end-c.off)/4 {
		return 0, 0, fmt.Errorf("%d substitution values at %#x: %w", n, off, ErrTooLarge)
	}
	start := len(d.vals)
	desc := c.off
	data := desc + 4*n
	// Every record reads its values: the descriptors (checked to fit
	// above) and the slots are sliced once, not appended one by one.
	ds := c.b[desc:data]
	if n <= cap(d.vals)-start {
		// The length alone: no pointer store, no write barrier.
		d.vals = d.vals[:start+n]
	} else {
		d.vals = slices.Grow(d.vals, n)[:start+n]
	}
	vs := d.vals[start:]
	for i := range vs {
		e := ds[4*i : 4*i+4]
		size := int(binary.LittleEndian.Uint16(e))
		if data+size > c.end {
			d.vals = d.vals[:start]
			return 0, 0, fmt.Errorf("substitution value %d (%d bytes) at %#x: %w", i, size, data, ErrTruncated)
		}
		vs[i] = value{typ: e[2], off: int32(data), size: int32(size)}
		data += size
	}
	c.off = data
	return start, len(d.vals), nil
}
