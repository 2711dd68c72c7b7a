package evtx

import (
	"encoding/binary"
	"hash/crc32"
	"unicode/utf16"
)

// This file builds small, valid EVTX files in memory so the decoder can be
// tested without the shared corpus.

// xn is an XML node for the builder: an element (name set), literal text
// (text set) or a substitution (sub >= 0).
type xn struct {
	name     string
	attrs    []xa
	children []xn
	text     string
	sub      int
	typ      byte
	opt      bool
	raw      []byte // raw BinXML tokens, written as is
}

type xa struct {
	name  string
	value xn
}

func el(name string, attrs []xa, children ...xn) xn {
	return xn{name: name, attrs: attrs, children: children, sub: -1}
}
func txt(s string) xn           { return xn{text: s, sub: -1} }
func sub(i int, typ byte) xn    { return xn{sub: i, typ: typ} }
func optSub(i int, typ byte) xn { return xn{sub: i, typ: typ, opt: true} }
func attr(name string, v xn) xa { return xa{name, v} }
func rawTok(b ...byte) xn       { return xn{raw: b, sub: -1} }

type val struct {
	typ byte
	b   []byte
}

type chunkBuilder struct {
	c       []byte
	names   map[string]uint32
	tmpl    map[string]uint32 // template key -> definition offset
	first   uint64
	last    uint64
	lastOff int
	count   int
}

func newChunkBuilder() *chunkBuilder {
	return &chunkBuilder{c: make([]byte, chunkHeaderSize), names: map[string]uint32{}, tmpl: map[string]uint32{}}
}

func (cb *chunkBuilder) u8(v byte)    { cb.c = append(cb.c, v) }
func (cb *chunkBuilder) u16(v uint16) { cb.c = binary.LittleEndian.AppendUint16(cb.c, v) }
func (cb *chunkBuilder) u32(v uint32) { cb.c = binary.LittleEndian.AppendUint32(cb.c, v) }
func (cb *chunkBuilder) u64(v uint64) { cb.c = binary.LittleEndian.AppendUint64(cb.c, v) }

func toUTF16(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func (cb *chunkBuilder) name(s string) {
	if off, ok := cb.names[s]; ok {
		cb.u32(off)
		return
	}
	off := uint32(len(cb.c) + 4)
	cb.names[s] = off
	cb.u32(off)
	cb.u32(0)
	cb.u16(0)
	u := toUTF16(s)
	cb.u16(uint16(len(u) / 2))
	cb.c = append(cb.c, u...)
	cb.u16(0)
}

func (cb *chunkBuilder) text(s string) {
	u := toUTF16(s)
	cb.u16(uint16(len(u) / 2))
	cb.c = append(cb.c, u...)
}

func (cb *chunkBuilder) node(n xn, inTemplate bool) {
	switch {
	case n.raw != nil:
		cb.c = append(cb.c, n.raw...)
	case n.sub >= 0:
		if n.opt {
			cb.u8(tokOptionalSubst)
		} else {
			cb.u8(tokNormalSubst)
		}
		cb.u16(uint16(n.sub))
		cb.u8(n.typ)
	case n.name == "":
		cb.u8(tokValue)
		cb.u8(tString)
		cb.text(n.text)
	default:
		tok := byte(tokOpenStart)
		if len(n.attrs) > 0 {
			tok |= tokMore
		}
		cb.u8(tok)
		if inTemplate {
			cb.u16(0xffff)
		}
		cb.u32(0) // data size: not used by the decoder
		cb.name(n.name)
		if len(n.attrs) > 0 {
			cb.u32(0)
			for i, a := range n.attrs {
				t := byte(tokAttribute)
				if i < len(n.attrs)-1 {
					t |= tokMore
				}
				cb.u8(t)
				cb.name(a.name)
				cb.node(a.value, inTemplate)
			}
		}
		if len(n.children) == 0 {
			cb.u8(tokCloseEmpty)
			return
		}
		cb.u8(tokCloseStart)
		for _, c := range n.children {
			cb.node(c, inTemplate)
		}
		cb.u8(tokEndElement)
	}
}

// record appends a record instantiating template key (body) with vals.
func (cb *chunkBuilder) record(id uint64, key string, body xn, vals []val) {
	start := len(cb.c)
	cb.c = append(cb.c, recordMagic...)
	cb.u32(0) // size, patched below
	cb.u64(id)
	cb.u64(132000000000000000)
	cb.c = append(cb.c, tokFragmentHeader, 1, 1, 0)
	cb.instance(key, body, vals)
	cb.u8(tokEOF)
	cb.finishRecord(start, id)
}

// rawRecord appends a record whose BinXML is written without a template.
func (cb *chunkBuilder) rawRecord(id uint64, body xn) {
	start := len(cb.c)
	cb.c = append(cb.c, recordMagic...)
	cb.u32(0)
	cb.u64(id)
	cb.u64(132000000000000000)
	cb.c = append(cb.c, tokFragmentHeader, 1, 1, 0)
	cb.node(body, false)
	cb.u8(tokEOF)
	cb.finishRecord(start, id)
}

// bytesRecord appends a record with the given BinXML bytes.
func (cb *chunkBuilder) bytesRecord(id uint64, binxml []byte) {
	start := len(cb.c)
	cb.c = append(cb.c, recordMagic...)
	cb.u32(0)
	cb.u64(id)
	cb.u64(132000000000000000)
	cb.c = append(cb.c, binxml...)
	cb.finishRecord(start, id)
}

func (cb *chunkBuilder) finishRecord(start int, id uint64) {
	for len(cb.c)%8 != 4 { // records are 8-byte aligned with the size copy
		cb.u8(0)
	}
	size := len(cb.c) + 4 - start
	cb.u32(uint32(size))
	binary.LittleEndian.PutUint32(cb.c[start+4:], uint32(size))
	if cb.count == 0 {
		cb.first = id
	}
	cb.last = id
	cb.lastOff = start
	cb.count++
}

func (cb *chunkBuilder) instance(key string, body xn, vals []val) {
	cb.u8(tokTemplate)
	cb.u8(1)
	cb.u32(0x1234)
	if off, ok := cb.tmpl[key]; ok {
		cb.u32(off)
	} else {
		off := uint32(len(cb.c) + 4)
		cb.tmpl[key] = off
		cb.u32(off)
		cb.u32(0)                                // next template
		cb.c = append(cb.c, make([]byte, 16)...) // GUID
		sizeAt := len(cb.c)
		cb.u32(0)
		bodyStart := len(cb.c)
		cb.c = append(cb.c, tokFragmentHeader, 1, 1, 0)
		cb.node(body, true)
		cb.u8(tokEOF)
		binary.LittleEndian.PutUint32(cb.c[sizeAt:], uint32(len(cb.c)-bodyStart))
	}
	cb.u32(uint32(len(vals)))
	for _, v := range vals {
		cb.u16(uint16(len(v.b)))
		cb.u8(v.typ)
		cb.u8(0)
	}
	for _, v := range vals {
		cb.c = append(cb.c, v.b...)
	}
}

// bytes finishes the chunk: header fields and both checksums.
func (cb *chunkBuilder) bytes() []byte {
	b := make([]byte, chunkSize)
	copy(b, cb.c)
	copy(b, chunkMagic)
	le := binary.LittleEndian
	le.PutUint64(b[8:], 1)
	le.PutUint64(b[16:], uint64(cb.count))
	le.PutUint64(b[24:], cb.first)
	le.PutUint64(b[32:], cb.last)
	le.PutUint32(b[40:], 128)
	le.PutUint32(b[44:], uint32(cb.lastOff))
	le.PutUint32(b[48:], uint32(len(cb.c)))
	le.PutUint32(b[52:], crc32.ChecksumIEEE(b[chunkHeaderSize:len(cb.c)]))
	fixChunkCRC(b)
	return b
}

func fixChunkCRC(b []byte) {
	crc := crc32.ChecksumIEEE(b[:120])
	crc = crc32.Update(crc, crc32.IEEETable, b[128:chunkHeaderSize])
	binary.LittleEndian.PutUint32(b[124:], crc)
}

// buildFile makes an EVTX file of the given chunks; declared is the chunk
// count written in the header (dirty files declare fewer).
func buildFile(chunks [][]byte, declared int, flags uint32) []byte {
	h := make([]byte, fileHeaderBlock)
	copy(h, fileMagic)
	le := binary.LittleEndian
	le.PutUint64(h[16:], uint64(declared-1))
	le.PutUint32(h[32:], 128)
	le.PutUint16(h[36:], 1)
	le.PutUint16(h[38:], 3)
	le.PutUint16(h[40:], fileHeaderBlock)
	le.PutUint16(h[42:], uint16(declared))
	le.PutUint32(h[120:], flags)
	le.PutUint32(h[124:], crc32.ChecksumIEEE(h[:120]))
	out := h
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out
}

// Value constructors.
func vStr(s string) val      { return val{tString, append(toUTF16(s), 0, 0)} }
func vU8(v uint8) val        { return val{tUint8, []byte{v}} }
func vU16(v uint16) val      { return val{tUint16, binary.LittleEndian.AppendUint16(nil, v)} }
func vU32(v uint32) val      { return val{tUint32, binary.LittleEndian.AppendUint32(nil, v)} }
func vU64(v uint64) val      { return val{tUint64, binary.LittleEndian.AppendUint64(nil, v)} }
func vHex64(v uint64) val    { return val{tHexInt64, binary.LittleEndian.AppendUint64(nil, v)} }
func vFileTime(v uint64) val { return val{tFileTime, binary.LittleEndian.AppendUint64(nil, v)} }
func vSID(auth byte, subs ...uint32) val {
	b := []byte{1, byte(len(subs)), 0, 0, 0, 0, 0, auth}
	for _, s := range subs {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return val{tSID, b}
}

// eventTemplate is a typical event template: System with the usual fields,
// then EventData with one Data element per name.
func eventTemplate(names ...string) xn {
	var data []xn
	for i, n := range names {
		data = append(data, el("Data", []xa{attr("Name", txt(n))}, sub(9+i, tString)))
	}
	return el("Event", []xa{attr("xmlns", txt("http://schemas.microsoft.com/win/2004/08/events/event"))},
		el("System", nil,
			el("Provider", []xa{attr("Name", sub(0, tString))}),
			el("EventID", nil, sub(1, tUint16)),
			el("Version", nil, sub(2, tUint8)),
			el("TimeCreated", []xa{attr("SystemTime", sub(3, tFileTime))}),
			el("Execution", []xa{attr("ProcessID", sub(4, tUint32)), attr("ThreadID", sub(5, tUint32))}),
			el("Channel", nil, sub(6, tString)),
			el("Computer", nil, sub(7, tString)),
			el("Security", []xa{attr("UserID", optSub(8, tSID))}),
		),
		el("EventData", nil, data...),
	)
}

// systemVals returns values 0..8 for eventTemplate.
func systemVals(provider string, eid uint16) []val {
	return []val{vStr(provider), vU16(eid), vU8(5), vFileTime(132000000000000000 + uint64(eid)),
		vU32(1234), vU32(5678), vStr("Test/Operational"), vStr("host.example"), vSID(5, 18)}
}
