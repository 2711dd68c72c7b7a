package evtx

import (
	"bytes"
	"strconv"
)

// A plan is what walk would do with a template, worked out once per chunk
// for each place (parent role, depth) the template is met at: which node
// chains fill which record field, the Data pairs with their names already
// decoded, and where a substitution may bring in BinXML (those go to
// walkNested as the record's values demand). A record that instantiates
// the template then mostly renders its values. The plan keeps walk's
// per-record node budget, output limit and depth limit exactly: every op
// carries the node visits walk would make up to it. Nested compiles may
// grow d.ops while a plan runs; the running plan keeps the old array, which
// only costs its string caches.

type opKind uint8

const (
	opVisit opKind = iota // visits only (after the last other op)
	opProvider
	opEventID
	opVersion
	opChannel
	opComputer
	opTime   // first: the SystemTime attribute node
	opUserID // first: parts of Security/@UserID
	opProcessID
	opThreadID
	opRecordID
	opData     // name, or nameFirst's text, or the next paramN; first: value parts
	opSubst    // sub: a substitution walk meets among elements
	opWalkElem // first: an element the plan leaves to walkElem
	opDepth    // walk fails here with ErrDepth
)

type planOp struct {
	kind      opKind
	role      role   // opSubst, opWalkElem: the parent role walk passes
	unnamed   bool   // opData named paramN
	sub       uint16 // opSubst
	visits    int32  // node visits walk makes before this op, its own included
	depth     int32  // opSubst, opWalkElem
	first     int32  // part chain rendered or parsed, or node
	nameFirst int32  // opData with a Name that depends on the record, else -1
	name      string
	last      strCache // the string fields' previous value
	// jname is name's JSON pair opening (appendPairOpen) in
	// decoder.jnames (JSON mode; jname[1] == 0 until rendered), jv the
	// last value's JSON (addJSONOp).
	jname [2]int32
	jv    jsonValue
}

// planEntry is one plan of a template: ops[opStart:opEnd] for instances
// walk meets with parent role and depth. A template's entries are chained
// through next (-1 ends), in decoder.plans.
type planEntry struct {
	parent         role
	ok             bool // false: walk this template at this place
	depth          int32
	opStart, opEnd int32
	next           int32
}

// maxPlansPerTemplate bounds the places a template gets a plan for; a
// template is normally met at one place only.
const maxPlansPerTemplate = 4

type planCompiler struct {
	d       *decoder
	pending int32 // visits not yet attached to an op
	ok      bool
}

// compilePlan builds a plan of template ti for instances met by walk with
// the given parent role and depth, and returns its index in d.plans.
func (d *decoder) compilePlan(ti int32, parent role, depth int) int32 {
	start := int32(len(d.ops))
	c := planCompiler{d: d, ok: true}
	c.walk(d.templates[ti].root, parent, depth)
	if c.ok && c.pending > 0 {
		c.emit(planOp{kind: opVisit})
	}
	if !c.ok {
		d.ops = d.ops[:start]
	}
	t := &d.templates[ti]
	d.plans = append(d.plans, planEntry{parent: parent, ok: c.ok, depth: int32(depth), opStart: start, opEnd: int32(len(d.ops)), next: t.plans})
	t.plans = int32(len(d.plans) - 1)
	return t.plans
}

func (c *planCompiler) emit(op planOp) {
	op.visits, c.pending = c.pending, 0
	c.d.ops = append(c.d.ops, op)
}

// walk mirrors decoder.walk.
func (c *planCompiler) walk(first int32, parent role, depth int) {
	d := c.d
	if depth > maxElementDepth {
		c.emit(planOp{kind: opDepth})
		return
	}
	for n := first; n >= 0 && c.ok; n = d.nodes[n].next {
		c.pending++
		if len(d.ops) >= maxNodesPerChunk {
			// Cannot happen for a template within the node limit; stay bounded.
			c.ok = false
			return
		}
		switch d.nodes[n].kind {
		case nElem:
			c.elem(n, parent, depth+1)
		case nSubst:
			c.emit(planOp{kind: opSubst, sub: d.nodes[n].sub, role: parent, depth: int32(depth)})
		case nInstance:
			// Templates cannot hold instances; be safe anyway.
			c.ok = false
		}
	}
}

// staticParts returns the text of a part chain that holds no substitution,
// as partsString would render it for any record.
func (c *planCompiler) staticParts(first int32) (string, bool) {
	d := c.d
	for n := first; n >= 0; n = d.nodes[n].next {
		if d.nodes[n].kind == nSubst {
			return "", false
		}
	}
	return d.partsString(first, frame{}), true
}

// elem mirrors decoder.walkElem.
func (c *planCompiler) elem(n int32, parent role, depth int) {
	d := c.d
	r := childRole(parent, d.nodes[n].name)
	switch r {
	case rEvent, rSystem, rEventData, rUserData:
		c.walk(d.nodes[n].first, r, depth)
	case rProvider:
		if a := d.attr(n, "Name"); a >= 0 {
			c.emit(planOp{kind: opProvider, first: d.nodes[a].first})
		}
	case rEventID:
		c.emit(planOp{kind: opEventID, first: d.nodes[n].first})
	case rVersion:
		c.emit(planOp{kind: opVersion, first: d.nodes[n].first})
	case rChannel:
		c.emit(planOp{kind: opChannel, first: d.nodes[n].first})
	case rComputer:
		c.emit(planOp{kind: opComputer, first: d.nodes[n].first})
	case rTimeCreated:
		if a := d.attr(n, "SystemTime"); a >= 0 {
			c.emit(planOp{kind: opTime, first: a})
		}
	case rEventRecordID:
		c.emit(planOp{kind: opRecordID, first: d.nodes[n].first})
	case rSecurity:
		if a := d.attr(n, "UserID"); a >= 0 {
			c.emit(planOp{kind: opUserID, first: d.nodes[a].first})
		}
	case rExecution:
		if a := d.attr(n, "ProcessID"); a >= 0 {
			c.emit(planOp{kind: opProcessID, first: d.nodes[a].first})
		}
		if a := d.attr(n, "ThreadID"); a >= 0 {
			c.emit(planOp{kind: opThreadID, first: d.nodes[a].first})
		}
	case rData:
		op := planOp{kind: opData, first: d.nodes[n].first, nameFirst: -1}
		if a := d.attr(n, "Name"); a >= 0 {
			if s, ok := c.staticParts(d.nodes[a].first); ok {
				op.name = s
			} else {
				op.nameFirst = d.nodes[a].first
			}
		} else {
			op.unnamed = true
		}
		c.emit(op)
	case rBinary:
		c.emit(planOp{kind: opData, name: "Binary", first: d.nodes[n].first, nameFirst: -1})
	case rUserInner:
		// Whether the element is a leaf may depend on the record's values;
		// UserData is rare enough to leave to walkElem then.
		for ch := d.nodes[n].first; ch >= 0; ch = d.nodes[ch].next {
			switch d.nodes[ch].kind {
			case nSubst, nInstance:
				c.emit(planOp{kind: opWalkElem, first: n, role: parent, depth: int32(depth)})
				return
			case nElem:
				c.walk(d.nodes[n].first, r, depth)
				return
			}
		}
		hasAttrs := false
		for a := d.nodes[n].attr; a >= 0; a = d.nodes[a].next {
			if name := d.nodes[a].name; name != "xmlns" {
				hasAttrs = true
				d.scratch = append(append(append(d.scratch[:0], d.nodes[n].name...), '.'), name...)
				c.emit(planOp{kind: opData, name: d.intern(d.scratch), first: d.nodes[a].first, nameFirst: -1})
			}
		}
		if !hasAttrs || d.nodes[n].first >= 0 {
			c.emit(planOp{kind: opData, name: d.nodes[n].name, first: d.nodes[n].first, nameFirst: -1})
		}
	}
}

// walkInstance walks template ti's tree with the instance's values, through
// the template's plan when it has one for this place.
func (d *decoder) walkInstance(ti int32, parent role, fr frame, depth int) error {
	if d.noPlan {
		return d.walk(d.templates[ti].root, parent, fr, depth)
	}
	pi, n := d.templates[ti].plans, 0
	for ; pi >= 0; pi, n = d.plans[pi].next, n+1 {
		if p := &d.plans[pi]; p.parent == parent && int(p.depth) == depth {
			break
		}
	}
	if pi < 0 && n < maxPlansPerTemplate {
		pi = d.compilePlan(ti, parent, depth)
	}
	if pi < 0 || !d.plans[pi].ok {
		return d.walk(d.templates[ti].root, parent, fr, depth)
	}
	p := &d.plans[pi]
	return d.runPlan(d.ops[p.opStart:p.opEnd], fr)
}

// runPlan has the effects of walk over the template the ops were made from.
func (d *decoder) runPlan(ops []planOp, fr frame) error {
	rec := d.rec
	for i := range ops {
		op := &ops[i]
		if op.visits > 0 {
			// walk checks at every visit; neither the output nor anything
			// else changes between the visits summed here.
			if d.budget -= int(op.visits); d.budget < 0 || d.outLen() > maxOutput {
				return errExpansion
			}
		}
		switch op.kind {
		case opData:
			name := op.name
			switch {
			case op.unnamed:
				d.unnamed++
				name = d.paramName(d.unnamed)
			case op.nameFirst >= 0:
				name = d.cachedParts(op, op.nameFirst, fr)
			case d.json:
				// A constant name: its JSON is made once per chunk.
				d.addJSONOp(op, fr)
				continue
			}
			d.addParts(name, op.first, fr)
		case opSubst:
			if v, ok := fr.get(d, op.sub); ok && v.typ == tBinXML {
				if err := d.walkNested(v, op.role, int(op.depth)); err != nil {
					return err
				}
			}
		case opProvider:
			d.setStr(&rec.Provider, setProvider, d.cachedParts(op, op.first, fr))
		case opEventID:
			v, _ := d.partsUint(op.first, fr)
			rec.EventID = uint16(v)
		case opVersion:
			v, _ := d.partsUint(op.first, fr)
			rec.Version = uint8(v)
		case opChannel:
			d.setStr(&rec.Channel, setChannel, d.cachedParts(op, op.first, fr))
		case opComputer:
			d.setStr(&rec.Computer, setComputer, d.cachedParts(op, op.first, fr))
		case opTime:
			rec.TimeCreated = d.attrTime(op.first, fr)
		case opUserID:
			d.setStr(&rec.UserID, setUserID, d.cachedParts(op, op.first, fr))
		case opProcessID:
			v, _ := d.partsUint(op.first, fr)
			rec.ProcessID = uint32(v)
		case opThreadID:
			v, _ := d.partsUint(op.first, fr)
			rec.ThreadID = uint32(v)
		case opRecordID:
			if v, ok := d.partsUint(op.first, fr); ok {
				rec.RecordID = v
			}
		case opWalkElem:
			if err := d.walkElem(op.first, op.role, fr, int(op.depth)); err != nil {
				return err
			}
		case opDepth:
			return ErrDepth
		}
	}
	return nil
}

// paramName returns the name of the i-th Data element without a Name.
func (d *decoder) paramName(i int) string {
	if i < len(d.params) && d.params[i] != "" {
		return d.params[i]
	}
	d.scratch = strconv.AppendInt(append(d.scratch[:0], "param"...), int64(i), 10)
	s := d.intern(d.scratch)
	if i < 64 {
		for len(d.params) <= i {
			d.params = append(d.params, "")
		}
		d.params[i] = s
	}
	return s
}

// strCache remembers the last value a string field was rendered from: the
// System strings rarely change within a chunk, and comparing the value's
// bytes is cheaper than rendering and interning them. raw points into the
// chunk; caches live in per-chunk ops and templates.
type strCache struct {
	raw []byte
	typ uint8
	s   string
}

// cachedParts is partsString, reusing op's previous result when the value
// is the same.
func (d *decoder) cachedParts(op *planOp, first int32, fr frame) string {
	return d.cachedString(&op.last, first, fr)
}

// cachedString is partsString, through c when the chain is one value.
func (d *decoder) cachedString(c *strCache, first int32, fr frame) string {
	if first < 0 {
		return ""
	}
	if nd := &d.nodes[first]; nd.next < 0 && nd.kind == nSubst {
		if v, ok := fr.get(d, nd.sub); ok && v.typ != tBinXML {
			raw := d.chunk[v.off : v.off+v.size]
			if c.raw != nil && c.typ == v.typ && bytes.Equal(c.raw, raw) {
				return c.s
			}
			// appendValue depends on the type and bytes only.
			d.scratch = appendValue(d.scratch[:0], v.typ, raw)
			s := ""
			if len(d.scratch) > 0 {
				s = d.intern(d.scratch)
			}
			c.raw, c.typ, c.s = raw, v.typ, s
			return s
		}
	}
	return d.partsString(first, fr)
}
