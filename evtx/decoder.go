package evtx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"strconv"
	"time"

	"github.com/procbeat/procbeat/internal/prefault"
	"github.com/procbeat/procbeat/internal/utf16le"
	"github.com/procbeat/procbeat/winevent"
)

type nestedTree struct{ off, root int32 }

// Per-record limits (see decoder.budget).
const (
	maxVisits = 1 << 16
	maxOutput = 1 << 20
)

var errExpansion = fmt.Errorf("record expands beyond %d nodes or %d bytes: %w", maxVisits, maxOutput, ErrTooLarge)

type nameEntry struct {
	s    string
	size int
}

type span struct {
	data       int // index in rec.Data
	start, end int // range in decoder.out
}

// frame is the substitution values visible to one template instance.
type frame struct{ base, end int }

func (f frame) get(d *decoder, i uint16) (value, bool) {
	j := f.base + int(i)
	if j >= f.end {
		return value{}, false
	}
	return d.vals[j], true
}

// decoder holds one worker's state: the current chunk, its caches and the
// buffers reused from record to record. It is not safe for concurrent use;
// each worker owns one.
type decoder struct {
	file   string
	filter func(provider string, eventID uint16) bool
	start  Position // resume point: records of start.Chunk before start.Offset are skipped

	chunk     []byte
	names     []nameEntry // this chunk's, found through nameIdx
	nameIdx   offsetIndex
	tmplIdx   offsetIndex // templates by offset
	templates []template
	plans     []planEntry // template plans (plan.go), per chunk
	ops       []planOp
	params    []string // param1, param2, ... by number
	nodes     []node
	vals      []value
	scratch   []byte
	out       []byte
	spans     []span
	unnamed   int
	strs      map[string]string
	rec       *winevent.Record
	strSet    uint8 // the rec string fields set so far (setStr)

	// budget is the node visits left for the current record: substitution
	// values may repeat nested BinXML, so output could otherwise grow
	// exponentially with crafted input.
	budget int
	// nested caches the trees of BinXML values already decoded for the
	// current record, by value offset.
	nested []nestedTree

	// json renders each kept record as a line of JSON into
	// chunkResult.text, its Data pairs straight into out (dumpjson.go);
	// jdata counts the record's pairs and jraw the bytes out would hold
	// otherwise (the output limit applies to those).
	json   bool
	jdata  int
	jraw   int
	jnames []byte // Data names' and values' JSON, per chunk (planOp.jname, jv)
	jstrs  jsonStrings

	// onRecord, when set, is called for every decoded record (Dump uses it
	// to render the record again as XML).
	onRecord func(pos, size int, rec *winevent.Record)
	// noRecover lets panics through (fuzzing wants to see them).
	noRecover bool
	// noPlan walks every template tree (tests compare both ways).
	noPlan bool
}

func newDecoder(file string, opts *Options) *decoder {
	return &decoder{
		file:   file,
		filter: opts.Filter,
		start:  opts.Start,
		strs:   make(map[string]string),
	}
}

// intern returns a string equal to b, reusing an earlier one when possible;
// the map lookup with a converted key does not allocate.
func (d *decoder) intern(b []byte) string {
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	if len(d.strs) >= 4096 {
		clear(d.strs)
	}
	s := string(b)
	d.strs[s] = s
	return s
}

func (d *decoder) resetChunk(b []byte) {
	d.chunk = b
	d.names = d.names[:0]
	d.nameIdx.reset()
	d.tmplIdx.reset()
	d.templates = d.templates[:0]
	d.nodes = d.nodes[:0]
	d.plans = d.plans[:0]
	d.ops = d.ops[:0]
	d.jnames = d.jnames[:0]
}

// chunkResult is the decoded content of one chunk, handed from a worker to
// the reader and recycled once the caller has moved past it.
type chunkResult struct {
	index   int
	records []winevent.Record
	ends    []uint32 // chunk-relative offset just past each kept record
	ident   uint64   // chunkIdent of the chunk
	head    saltHead // what the file's salt takes of the chunk slot
	n       int
	errs    []error
	stats   Stats
	text    []byte // the records' JSON lines, in JSON mode (Dump)
	// notChunk: the slot holds bytes that are not a chunk (no chunk
	// magic): past the chunks in use, that is slack (Reader.Next).
	notChunk bool
	// maxID is the highest record id the chunk holds (its records' and,
	// when intact, its header's): the file's is checked against the file
	// header's next record id (Reader.checkEnd).
	maxID uint64
	// empty: the result of a chunk that kept no record, which never holds
	// any (Reader.emptyResult).
	empty bool
}

func (r *chunkResult) reset(index int) {
	r.index = index
	r.n = 0
	r.ident = 0
	r.head = saltHead{}
	r.errs = r.errs[:0]
	r.stats = Stats{}
	r.text = r.text[:0]
	r.notChunk = false
	r.maxID = 0
}

// next returns a record slot to decode into, reusing earlier Data capacity;
// decodeRecord clears what it does not set.
func (r *chunkResult) next() *winevent.Record {
	if r.n == len(r.records) {
		r.records = append(r.records, winevent.Record{})
	}
	return &r.records[r.n]
}

// decodeChunk decodes chunk index idx (file offset off) held in b.
func (d *decoder) decodeChunk(idx int, off int64, b []byte, res *chunkResult) {
	res.reset(idx)
	res.stats.Chunks = 1
	defer func() {
		if d.noRecover {
			return
		}
		if r := recover(); r != nil {
			res.errs = append(res.errs, &ChunkError{File: d.file, Chunk: idx, Offset: off, Err: recovered(r)})
		}
	}()
	res.head = readSaltHead(b)
	if len(b) < chunkHeaderSize {
		res.stats.EmptyChunks = 1
		if len(b) > 0 && !allZero(b) {
			res.notChunk = string(b[:min(len(b), len(chunkMagic))]) != chunkMagic[:min(len(b), len(chunkMagic))]
			res.errs = append(res.errs, &ChunkError{File: d.file, Chunk: idx, Offset: off, Err: fmt.Errorf("%d bytes: %w", len(b), ErrTruncated)})
		}
		return
	}
	if string(b[:8]) != chunkMagic {
		// A slot never written is all zeros: empty. One whose header
		// alone is zeroed still holds a chunk's records, or something
		// else: its magic is as bad as any other (and past the chunks in
		// use, slack as any other). Only slots whose header is zero are
		// read through, a word at a time.
		err := ErrBadChunkMagic
		if allZero(b[:chunkHeaderSize]) {
			if allZero(b[chunkHeaderSize:]) {
				res.stats.EmptyChunks = 1
				return
			}
			n, s := nonZero(b), "s"
			if n == 1 {
				s = ""
			}
			err = fmt.Errorf("%w: the chunk header is zeroed, %d non-zero byte%s follow it", ErrBadChunkMagic, n, s)
		}
		res.stats.BadMagicChunks = 1
		res.notChunk = true
		res.errs = append(res.errs, &ChunkError{File: d.file, Chunk: idx, Offset: off, Err: err})
		return
	}
	h := parseChunkHeader(b)
	res.ident = chunkIdent(b)
	end := len(b)
	if len(b) < chunkSize {
		res.errs = append(res.errs, &ChunkError{File: d.file, Chunk: idx, Offset: off, Err: fmt.Errorf("%w: chunk has %d bytes", ErrTruncated, len(b))})
	}
	// suspect is the index in res.errs of the chunk's checksum error: its
	// records are still read (an incident responder wants what is left),
	// and the error then names them (suspectRecords).
	suspect := -1
	if !h.headerCRCOK {
		res.stats.ChecksumErrors++
		suspect = len(res.errs)
		res.errs = append(res.errs, &ChunkError{File: d.file, Chunk: idx, Offset: off, Err: ErrHeaderChecksum})
	} else {
		res.maxID = h.lastRecID
		if fs := int(h.freeSpaceOffset); fs >= chunkHeaderSize && fs <= len(b) {
			end = fs
			if crc := crc32.ChecksumIEEE(b[chunkHeaderSize:fs]); crc != h.dataCRC {
				res.stats.ChecksumErrors++
				suspect = len(res.errs)
				res.errs = append(res.errs, &ChunkError{File: d.file, Chunk: idx, Offset: off, Err: ErrDataChecksum})
			}
		}
	}
	res.stats.ChunksDecoded = 1
	d.resetChunk(b)
	// The ids of the records read from the chunk, kept or filtered.
	var lo, hi uint64 = math.MaxUint64, 0
	pos := chunkHeaderSize
	for pos+minRecordSize <= end {
		if string(b[pos:pos+4]) != recordMagic {
			// The normal end when the header's free-space offset is unusable;
			// otherwise records are missing.
			if h.headerCRCOK && pos <= int(h.lastRecOffset) && int(h.lastRecOffset) < end {
				res.errs = append(res.errs, d.recordErr(idx, off, pos, 0, ErrRecordMagic))
				res.stats.RecordErrors++
				if next := findRecord(b, pos+1, end, h); next > 0 {
					pos = next
					continue
				}
			}
			break
		}
		size := int(binary.LittleEndian.Uint32(b[pos+4:]))
		id := binary.LittleEndian.Uint64(b[pos+8:])
		// The trailing size copy is not checked here: records whose copy was
		// overwritten still decode (other parsers keep them too), and a real
		// size problem shows up as a BinXML error.
		if size < minRecordSize || pos+size > end {
			var err error
			if size == 0 {
				err = ErrZeroSize
			} else {
				err = fmt.Errorf("%w: %d bytes", ErrRecordSize, size)
			}
			res.errs = append(res.errs, d.recordErr(idx, off, pos, id, err))
			res.stats.RecordErrors++
			next := findRecord(b, pos+4, end, h)
			if next < 0 {
				break
			}
			pos = next
			continue
		}
		if idx == d.start.Chunk && pos < d.start.Offset {
			// Resuming inside this chunk: the record was delivered.
			res.stats.Resumed++
			pos += size
			continue
		}
		rec := res.next()
		keep, err := d.safeRecord(pos, size, rec)
		if err == nil {
			lo, hi = min(lo, id), max(hi, id)
		}
		switch {
		case err != nil:
			res.errs = append(res.errs, d.recordErr(idx, off, pos, id, err))
			res.stats.RecordErrors++
		case keep:
			res.ends = append(res.ends[:res.n], uint32(pos+size))
			res.n++
			res.stats.Records++
			if d.json {
				res.text = appendRecordJSONHead(res.text, rec, &d.jstrs)
				res.text = append(res.text, d.out...)
				res.text = append(res.text, "]}\n"...)
			}
			if d.onRecord != nil {
				d.onRecord(pos, size, rec)
			}
		default:
			res.stats.Filtered++
		}
		pos += size
	}
	res.maxID = max(res.maxID, hi)
	if suspect >= 0 {
		res.errs[suspect] = suspectRecords(res.errs[suspect], lo, hi, res.stats.Records+res.stats.Filtered)
	}
}

// suspectRecords adds to a chunk's checksum error that its records were
// read anyway and which they are: their values may be corrupted, and a
// user looks for them by record id (System/EventRecordID, the documents'
// _id). lo and hi are the lowest and highest id read, n the number read
// (kept or filtered out).
func suspectRecords(err error, lo, hi uint64, n int) error {
	ce, ok := err.(*ChunkError)
	if !ok {
		return err
	}
	e := *ce
	if lo > hi {
		e.Err = fmt.Errorf("%w; no record of the chunk could be read", ce.Err)
	} else {
		e.Err = fmt.Errorf("%w; its %d records (ids %d-%d) were read anyway and may hold corrupted values", ce.Err, n, lo, hi)
	}
	return &e
}

func (d *decoder) recordErr(chunk int, chunkOff int64, pos int, id uint64, err error) error {
	return &RecordError{File: d.file, Chunk: chunk, Record: id, Offset: chunkOff + int64(pos), Err: err}
}

// findRecord looks for the next plausible record start at or after from:
// magic, sane size, matching trailing size copy and, when the chunk header
// is intact, a record id inside the header's range. The id check keeps stale
// records of an earlier use of the chunk out: their template references
// would point at whatever the chunk holds now.
func findRecord(b []byte, from, end int, h chunkHeader) int {
	for from+minRecordSize <= end {
		i := bytes.Index(b[from:end], []byte(recordMagic))
		if i < 0 {
			return -1
		}
		p := from + i
		if p+minRecordSize <= end {
			size := int(binary.LittleEndian.Uint32(b[p+4:]))
			id := binary.LittleEndian.Uint64(b[p+8:])
			inRange := !h.headerCRCOK || (id >= h.firstRecID && id <= h.lastRecID)
			if size >= minRecordSize && p+size <= end && inRange && int(binary.LittleEndian.Uint32(b[p+size-4:])) == size {
				return p
			}
		}
		from = p + 1
	}
	return -1
}

// allZero reports whether b holds only zero bytes. It reads whole 64 KiB
// slots (those whose header is zero): eight bytes at a time, a branch per
// 64 of them.
func allZero(b []byte) bool {
	for len(b) >= 64 {
		w := binary.LittleEndian.Uint64(b) | binary.LittleEndian.Uint64(b[8:]) |
			binary.LittleEndian.Uint64(b[16:]) | binary.LittleEndian.Uint64(b[24:]) |
			binary.LittleEndian.Uint64(b[32:]) | binary.LittleEndian.Uint64(b[40:]) |
			binary.LittleEndian.Uint64(b[48:]) | binary.LittleEndian.Uint64(b[56:])
		if w != 0 {
			return false
		}
		b = b[64:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// nonZero counts the bytes of b that are not zero, for an error message.
func nonZero(b []byte) int { return len(b) - bytes.Count(b, []byte{0}) }

func (d *decoder) safeRecord(pos, size int, rec *winevent.Record) (keep bool, err error) {
	defer func() {
		if d.noRecover {
			return
		}
		if r := recover(); r != nil {
			keep, err = false, recovered(r)
		}
	}()
	return d.decodeRecord(pos, size, rec)
}

// decodeRecord decodes the record at chunk offset pos into rec. It returns
// false when the filter rejects the record.
func (d *decoder) decodeRecord(pos, size int, rec *winevent.Record) (bool, error) {
	if d.rec != rec {
		// Records the filter drops reuse one slot: no pointer store
		// (and write barrier) for each.
		d.rec = rec
	}
	d.out = d.out[:0]
	d.spans = d.spans[:0]
	d.vals = d.vals[:0]
	d.unnamed = 0
	d.jdata, d.jraw = 0, 0
	d.budget = maxVisits
	d.nested = d.nested[:0]
	root, fr, ti, err := d.recordRoot(pos, size)
	if err != nil {
		return false, err
	}
	filtered := false
	if ti >= 0 && d.filter != nil {
		// Provider and event id first: rejected records cost no more.
		if tp := &d.templates[ti]; tp.provName >= 0 && tp.eventID >= 0 {
			prov := d.cachedString(&tp.provLast, d.nodes[tp.provName].first, fr)
			eid, _ := d.contentUint(tp.eventID, fr)
			if !d.filter(prov, uint16(eid)) {
				return false, nil
			}
			filtered = true
		}
	}
	// The slot still holds an earlier record. Its number fields are
	// cleared; its strings and Data are overwritten as they are decoded,
	// each only when it changes, and those this record lacks are cleared
	// after the walk (see setStr): a pointer store costs a write barrier
	// while the GC marks, and most of them would store what is there.
	d.strSet = 0
	rec.Data = rec.Data[:0]
	rec.EventID, rec.Version, rec.ProcessID, rec.ThreadID = 0, 0, 0, 0
	if rec.TimeCreated != (time.Time{}) {
		rec.TimeCreated = time.Time{}
	}
	// The record header's number is only a fallback for events without a
	// System/EventRecordID (the walk below sets it from there): the two
	// differ in most exported and forwarded logs, and the event's own
	// number is what XML and JSON renderings of the same event carry.
	rec.RecordID = binary.LittleEndian.Uint64(d.chunk[pos+8:])
	if ti >= 0 {
		err = d.walkInstance(ti, rNone, fr, 0)
	} else {
		err = d.walk(root, rNone, fr, 0)
	}
	if err != nil {
		return false, err
	}
	d.clearUnset()
	if !filtered && d.filter != nil && !d.filter(rec.Provider, rec.EventID) {
		return false, nil
	}
	if rec.TimeCreated.IsZero() {
		rec.TimeCreated = filetimeToTime(binary.LittleEndian.Uint64(d.chunk[pos+16:]))
	}
	// One allocation holds every event data value of the record. Spans
	// are in Data order, at most one per pair.
	s := ""
	if len(d.spans) > 0 {
		s = string(d.out)
	}
	spans := d.spans
	for i := range rec.Data {
		dp := &rec.Data[i]
		if len(spans) > 0 && spans[0].data == i {
			dp.Value = s[spans[0].start:spans[0].end]
			spans = spans[1:]
		} else if dp.Value != "" {
			dp.Value = ""
		}
	}
	return true, nil
}

// The string fields of winevent.Record that decodeRecord sets through
// setStr, as bits of decoder.strSet.
const (
	setProvider = 1 << iota
	setChannel
	setComputer
	setUserID
)

// setStr stores s in the current record's string field p (bit: which one)
// unless it holds s already: interned strings repeat from record to
// record, and a store that changes nothing still costs a write barrier.
func (d *decoder) setStr(p *string, bit uint8, s string) {
	d.strSet |= bit
	if *p != s {
		*p = s
	}
}

// clearUnset clears the string fields the record did not set, which still
// hold an earlier record's.
func (d *decoder) clearUnset() {
	rec := d.rec
	for _, f := range [...]struct {
		p   *string
		bit uint8
	}{{&rec.Provider, setProvider}, {&rec.Channel, setChannel}, {&rec.Computer, setComputer}, {&rec.UserID, setUserID}} {
		if d.strSet&f.bit == 0 && *f.p != "" {
			*f.p = ""
		}
	}
}

// recordRoot decodes the BinXML of the record at pos up to its node tree.
// The common shape is one template instance: the template is decoded once
// per chunk and the record only supplies values (ti is then its index).
// Anything else is decoded as a tree of its own.
func (d *decoder) recordRoot(pos, size int) (root int32, fr frame, ti int32, err error) {
	// The parser is filled field by field: built as a composite literal
	// it is copied from a temporary, and loading what was just stored
	// stalls (this runs for every record).
	var p parser
	p.d, p.c.b, p.c.off, p.c.end = d, d.chunk, pos+recordHeaderSize, pos+size-4
	for {
		t, ok := p.c.peek()
		if !ok || t != tokFragmentHeader {
			break
		}
		p.c.skip(4)
	}
	if t, _ := p.c.peek(); t == tokTemplate && p.c.err == nil {
		p.c.off++
		ti, valOff, err := p.instanceHeader()
		if err != nil {
			return -1, frame{}, -1, err
		}
		vs, ve, err := d.readValues(&p.c, valOff)
		if err != nil {
			return -1, frame{}, -1, err
		}
		return d.templates[ti].root, frame{vs, ve}, ti, nil
	}
	root, err = p.content(0, true)
	return root, frame{}, -1, err
}

// role is where an element sits in the event schema, as far as the record
// extraction cares.
type role uint8

const (
	rNone role = iota
	rEvent
	rSystem
	rProvider
	rEventID
	rVersion
	rChannel
	rComputer
	rTimeCreated
	rEventRecordID
	rSecurity
	rExecution
	rEventData
	rData
	rBinary
	rUserData
	rUserInner
	rOther
)

func childRole(parent role, name string) role {
	switch parent {
	case rNone:
		if name == "Event" {
			return rEvent
		}
	case rEvent:
		switch name {
		case "System":
			return rSystem
		case "EventData":
			return rEventData
		case "UserData":
			return rUserData
		}
	case rSystem:
		switch name {
		case "Provider":
			return rProvider
		case "EventID":
			return rEventID
		case "Version":
			return rVersion
		case "Channel":
			return rChannel
		case "Computer":
			return rComputer
		case "TimeCreated":
			return rTimeCreated
		case "EventRecordID":
			return rEventRecordID
		case "Security":
			return rSecurity
		case "Execution":
			return rExecution
		}
	case rEventData:
		switch name {
		case "Data":
			return rData
		case "Binary":
			return rBinary
		}
	case rUserData, rUserInner:
		return rUserInner
	}
	return rOther
}

// walk visits a node chain with the given parent role.
func (d *decoder) walk(first int32, parent role, fr frame, depth int) error {
	if depth > maxElementDepth {
		return ErrDepth
	}
	for n := first; n >= 0; n = d.nodes[n].next {
		if d.budget--; d.budget < 0 || d.outLen() > maxOutput {
			return errExpansion
		}
		switch d.nodes[n].kind {
		case nElem:
			if err := d.walkElem(n, parent, fr, depth+1); err != nil {
				return err
			}
		case nSubst:
			v, ok := fr.get(d, d.nodes[n].sub)
			if ok && v.typ == tBinXML {
				if err := d.walkNested(v, parent, depth); err != nil {
					return err
				}
			}
		case nInstance:
			nd := &d.nodes[n]
			if err := d.walkInstance(nd.tmpl, parent, frame{int(nd.vstart), int(nd.vend)}, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkNested decodes a BinXML substitution value in place.
func (d *decoder) walkNested(v value, parent role, depth int) error {
	root, err := d.nestedRoot(v, depth)
	if err != nil {
		return err
	}
	return d.walk(root, parent, frame{}, depth+1)
}

// nestedRoot decodes a BinXML value once per record.
func (d *decoder) nestedRoot(v value, depth int) (int32, error) {
	for _, t := range d.nested {
		if t.off == v.off {
			return t.root, nil
		}
	}
	p := parser{d: d, c: cursor{b: d.chunk, off: int(v.off), end: int(v.off + v.size)}, depth: depth/4 + 1}
	root, err := p.content(0, true)
	if err != nil {
		return -1, fmt.Errorf("BinXML value: %w", err)
	}
	d.nested = append(d.nested, nestedTree{v.off, root})
	return root, nil
}

func (d *decoder) walkElem(n int32, parent role, fr frame, depth int) error {
	r := childRole(parent, d.nodes[n].name)
	rec := d.rec
	switch r {
	case rEvent, rSystem, rEventData, rUserData:
		return d.walk(d.nodes[n].first, r, fr, depth)
	case rProvider:
		if a := d.attr(n, "Name"); a >= 0 {
			d.setStr(&rec.Provider, setProvider, d.attrString(a, fr))
		}
	case rEventID:
		v, _ := d.contentUint(n, fr)
		rec.EventID = uint16(v)
	case rVersion:
		v, _ := d.contentUint(n, fr)
		rec.Version = uint8(v)
	case rChannel:
		d.setStr(&rec.Channel, setChannel, d.contentString(n, fr))
	case rComputer:
		d.setStr(&rec.Computer, setComputer, d.contentString(n, fr))
	case rTimeCreated:
		if a := d.attr(n, "SystemTime"); a >= 0 {
			rec.TimeCreated = d.attrTime(a, fr)
		}
	case rEventRecordID:
		if v, ok := d.contentUint(n, fr); ok {
			rec.RecordID = v
		}
	case rSecurity:
		if a := d.attr(n, "UserID"); a >= 0 {
			d.setStr(&rec.UserID, setUserID, d.attrString(a, fr))
		}
	case rExecution:
		if a := d.attr(n, "ProcessID"); a >= 0 {
			v, _ := d.partsUint(d.nodes[a].first, fr)
			rec.ProcessID = uint32(v)
		}
		if a := d.attr(n, "ThreadID"); a >= 0 {
			v, _ := d.partsUint(d.nodes[a].first, fr)
			rec.ThreadID = uint32(v)
		}
	case rData:
		name := ""
		if a := d.attr(n, "Name"); a >= 0 {
			name = d.attrString(a, fr)
		} else {
			d.unnamed++
			d.scratch = strconv.AppendInt(append(d.scratch[:0], "param"...), int64(d.unnamed), 10)
			name = d.intern(d.scratch)
		}
		d.addData(name, n, fr)
	case rBinary:
		d.addData("Binary", n, fr)
	case rUserInner:
		if d.isLeaf(n, fr) {
			// A leaf's attributes become "Element.Attribute" pairs; the
			// element itself is a pair unless it is attributes only.
			hasAttrs := false
			for a := d.nodes[n].attr; a >= 0; a = d.nodes[a].next {
				if name := d.nodes[a].name; name != "xmlns" {
					hasAttrs = true
					d.scratch = append(append(append(d.scratch[:0], d.nodes[n].name...), '.'), name...)
					d.addParts(d.intern(d.scratch), d.nodes[a].first, fr)
				}
			}
			if !hasAttrs || d.nodes[n].first >= 0 {
				d.addData(d.nodes[n].name, n, fr)
			}
			return nil
		}
		return d.walk(d.nodes[n].first, r, fr, depth)
	}
	return nil
}

func (d *decoder) addData(name string, n int32, fr frame) { d.addParts(name, d.nodes[n].first, fr) }

// outLen is the length of the record's rendered values so far.
func (d *decoder) outLen() int {
	if d.json {
		return d.jraw
	}
	return len(d.out)
}

func (d *decoder) addParts(name string, first int32, fr frame) {
	if d.json {
		d.addPartsJSON(name, first, fr)
		return
	}
	rec := d.rec
	// The slot's Data keeps an earlier record's pairs: the name is stored
	// only when it differs, the value at the end (decodeRecord).
	if i := len(rec.Data); i < cap(rec.Data) {
		rec.Data = rec.Data[:i+1]
		if dp := &rec.Data[i]; dp.Name != name {
			dp.Name = name
		}
	} else {
		rec.Data = append(rec.Data, winevent.Data{Name: name})
		// The pairs past it are read before they are written (above).
		prefault.Slice(rec.Data[len(rec.Data):])
	}
	start := len(d.out)
	if out := d.appendParts(d.out, first, fr); cap(out) == cap(d.out) {
		// Same array (appends only grow it): storing the length alone
		// spares a pointer store, and its write barrier, per pair.
		d.out = d.out[:len(out)]
	} else {
		d.out = out
	}
	if len(d.out) > start {
		d.spans = append(d.spans, span{len(rec.Data) - 1, start, len(d.out)})
	}
}

// isLeaf reports whether an element has no child elements (directly or via
// a BinXML value).
func (d *decoder) isLeaf(n int32, fr frame) bool {
	for c := d.nodes[n].first; c >= 0; c = d.nodes[c].next {
		switch d.nodes[c].kind {
		case nElem, nInstance:
			return false
		case nSubst:
			if v, ok := fr.get(d, d.nodes[c].sub); ok && v.typ == tBinXML {
				return false
			}
		}
	}
	return true
}

func (d *decoder) attr(el int32, name string) int32 {
	for a := d.nodes[el].attr; a >= 0; a = d.nodes[a].next {
		if d.nodes[a].name == name {
			return a
		}
	}
	return -1
}

// appendParts renders the text of a part chain: literal text and values;
// child elements and nested BinXML are not text and are skipped.
func (d *decoder) appendParts(dst []byte, first int32, fr frame) []byte {
	for n := first; n >= 0; n = d.nodes[n].next {
		nd := &d.nodes[n]
		switch nd.kind {
		case nText, nCDATA, nEntity:
			dst = d.appendText(dst, nd)
		case nSubst:
			if v, ok := fr.get(d, nd.sub); ok && v.typ != tBinXML {
				dst = appendValue(dst, v.typ, d.chunk[v.off:v.off+v.size])
			}
		}
	}
	return dst
}

// partsString returns the text of a part chain, interned: names, providers
// and computers repeat, so this rarely allocates.
func (d *decoder) partsString(first int32, fr frame) string {
	if first >= 0 && d.nodes[first].next < 0 && d.nodes[first].kind == nText {
		// A literal (e.g. a Data Name): decode once per chunk, then reuse.
		nd := &d.nodes[first]
		if nd.text == "" && nd.tlen > 0 {
			d.scratch = d.appendText(d.scratch[:0], nd)
			nd.text = d.intern(d.scratch)
			nd.tlen = 0
		}
		return nd.text
	}
	d.scratch = d.appendParts(d.scratch[:0], first, fr)
	if len(d.scratch) == 0 {
		return ""
	}
	return d.intern(d.scratch)
}

func (d *decoder) attrString(a int32, fr frame) string { return d.partsString(d.nodes[a].first, fr) }

func (d *decoder) contentString(el int32, fr frame) string {
	return d.partsString(d.nodes[el].first, fr)
}

func (d *decoder) contentUint(el int32, fr frame) (uint64, bool) {
	return d.partsUint(d.nodes[el].first, fr)
}

func (d *decoder) partsUint(first int32, fr frame) (uint64, bool) {
	if first >= 0 && d.nodes[first].next < 0 && d.nodes[first].kind == nSubst {
		if v, ok := fr.get(d, d.nodes[first].sub); ok {
			if u, ok := valueUint(v.typ, d.chunk[v.off:v.off+v.size]); ok {
				return u, true
			}
		}
	}
	d.scratch = d.appendParts(d.scratch[:0], first, fr)
	return parseUintText(bytes.TrimSpace(d.scratch))
}

func (d *decoder) attrTime(a int32, fr frame) time.Time {
	first := d.nodes[a].first
	if first >= 0 && d.nodes[first].next < 0 && d.nodes[first].kind == nSubst {
		if v, ok := fr.get(d, d.nodes[first].sub); ok {
			b := d.chunk[v.off : v.off+v.size]
			switch {
			case v.typ == tFileTime && len(b) >= 8:
				return filetimeToTime(binary.LittleEndian.Uint64(b))
			case v.typ == tSysTime && len(b) >= 16:
				return systemtimeToTime(b)
			}
		}
	}
	d.scratch = d.appendParts(d.scratch[:0], first, fr)
	t, err := time.Parse(time.RFC3339Nano, string(d.scratch))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// appendText appends a text node's content.
func (d *decoder) appendText(dst []byte, nd *node) []byte {
	if nd.tlen > 0 {
		return utf16le.Append(dst, d.chunk[nd.toff:nd.toff+nd.tlen])
	}
	return append(dst, nd.text...)
}
