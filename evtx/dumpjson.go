package evtx

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/procbeat/procbeat/internal/jsonstr"
	"github.com/procbeat/procbeat/internal/rfc3339"
	"github.com/procbeat/procbeat/winevent"
)

// JSON rendering for `procbeat evtx dump --format json`.
//
// A decoder in JSON mode (decoder.json) writes each kept record's Data
// pairs as JSON straight into decoder.out, converting UTF-16 values and
// escaping them in one pass, and appends the record's whole line to
// chunkResult.text; record values are never built as Go strings, and a
// record's Data stays empty. The output is exactly appendRecordJSON of the
// record the decoder would otherwise have filled (TestDumpJSONMatchesRecords):
// UTF-8 from appendUTF16/appendValue, escaped as jsonstr.Append escapes.
// appendRecordJSON, the reference the tests compare with, is in
// dumpjson_test.go.

// jsonStrings keeps the JSON of the record's string fields as last
// rendered: within a file they rarely change, and interned strings that
// did not change compare by pointer.
type jsonStrings [4]struct {
	s string
	j []byte
}

// append appends s as a JSON string, through field i of the cache when c
// is not nil.
func (c *jsonStrings) append(dst []byte, i int, s string) []byte {
	if c == nil {
		return jsonstr.Append(dst, s)
	}
	e := &c[i]
	if e.j == nil || e.s != s {
		e.s, e.j = s, jsonstr.Append(e.j[:0], s)
	}
	return append(dst, e.j...)
}

// appendRecordJSONHead renders a record's System fields and opens its Data
// array; c, if not nil, caches the string fields.
func appendRecordJSONHead(dst []byte, r *winevent.Record, c *jsonStrings) []byte {
	// Keys are constants that need no escaping.
	dst = append(dst, `{"Provider":`...)
	dst = c.append(dst, 0, r.Provider)
	dst = append(dst, `,"EventID":`...)
	dst = strconv.AppendUint(dst, uint64(r.EventID), 10)
	dst = append(dst, `,"Version":`...)
	dst = strconv.AppendUint(dst, uint64(r.Version), 10)
	dst = append(dst, `,"RecordID":`...)
	dst = strconv.AppendUint(dst, r.RecordID, 10)
	dst = append(dst, `,"Channel":`...)
	dst = c.append(dst, 1, r.Channel)
	dst = append(dst, `,"Computer":`...)
	dst = c.append(dst, 2, r.Computer)
	dst = append(dst, `,"TimeCreated":"`...)
	dst = rfc3339.AppendNano(dst, r.TimeCreated)
	dst = append(dst, `","UserID":`...)
	dst = c.append(dst, 3, r.UserID)
	dst = append(dst, `,"ProcessID":`...)
	dst = strconv.AppendUint(dst, uint64(r.ProcessID), 10)
	dst = append(dst, `,"ThreadID":`...)
	dst = strconv.AppendUint(dst, uint64(r.ThreadID), 10)
	return append(dst, `,"Data":[`...)
}

// appendDataJSONName opens a Data pair up to its value.
func appendDataJSONName(dst []byte, name string) []byte {
	dst = append(dst, `{"Name":`...)
	dst = jsonstr.Append(dst, name)
	return append(dst, `,"Value":`...)
}

// addPartsJSON is addParts in JSON mode: the pair goes to d.out as JSON.
// d.jraw counts the bytes addParts would have put in d.out, so that the
// output limit is the same in both modes.
func (d *decoder) addPartsJSON(name string, first int32, fr frame) {
	d.scratch = appendPairOpen(d.scratch[:0], name)
	d.addJSON(d.scratch, first, fr)
}

// appendPairOpen renders what precedes a Data pair's value: a comma, then
// appendDataJSONName and the value's opening quote.
func appendPairOpen(dst []byte, name string) []byte {
	dst = appendDataJSONName(append(dst, ','), name)
	return append(dst, '"')
}

// addJSON is addPartsJSON with the pair's opening (appendPairOpen) already
// rendered. It returns where the value's JSON is in d.out and the length
// appendParts would have rendered.
func (d *decoder) addJSON(open []byte, first int32, fr frame) (vs, ve, raw int) {
	d.openPair(open)
	vs = len(d.out)
	d.out, raw = d.appendPartsJSON(d.out, first, fr)
	ve = len(d.out)
	d.jraw += raw
	d.out = append(d.out, '"', '}')
	return vs, ve, raw
}

func (d *decoder) openPair(open []byte) {
	if d.jdata == 0 {
		open = open[1:] // no comma before the first pair
	}
	d.jdata++
	d.out = append(d.out, open...)
}

// addJSONOp is addJSON for a Data op with a constant name. A value that is
// one substitution with the same type and bytes as the op's previous one in
// the chunk (an image path, a user, a company, a logon GUID: they repeat
// from event to event) reuses the JSON rendered then.
func (d *decoder) addJSONOp(op *planOp, fr frame) {
	if op.jname[1] == 0 {
		op.jname[0] = int32(len(d.jnames))
		d.jnames = appendPairOpen(d.jnames, op.name)
		op.jname[1] = int32(len(d.jnames))
	}
	open := d.jnames[op.jname[0]:op.jname[1]]
	if op.first < 0 || d.nodes[op.first].next >= 0 || d.nodes[op.first].kind != nSubst {
		d.addJSON(open, op.first, fr)
		return
	}
	v, ok := fr.get(d, d.nodes[op.first].sub)
	if !ok || v.typ == tBinXML || op.jv.misses > 3 && op.jv.hits == 0 {
		// (Values that changed in each of the first records, such as
		// times and ids, are not kept: copying them would be waste.)
		d.addJSON(open, op.first, fr)
		return
	}
	raw := d.chunk[v.off : v.off+v.size]
	if op.jv.raw != nil && op.jv.typ == v.typ && bytes.Equal(op.jv.raw, raw) {
		d.openPair(open)
		d.out = append(d.out, d.jnames[op.jv.start:op.jv.end]...)
		d.jraw += int(op.jv.n)
		op.jv.hits++
		d.out = append(d.out, '"', '}')
		return
	}
	vs, ve, n := d.addJSON(open, op.first, fr)
	start := len(d.jnames)
	d.jnames = append(d.jnames, d.out[vs:ve]...)
	op.jv = jsonValue{raw: raw, typ: v.typ, start: int32(start), end: int32(len(d.jnames)), n: int32(n),
		hits: op.jv.hits, misses: op.jv.misses + 1}
}

// jsonValue is the JSON of an op's last value, in decoder.jnames, for a
// value of type typ and bytes raw (in the chunk); n is its length
// unescaped. appendValue depends on the type and bytes only.
type jsonValue struct {
	raw           []byte
	typ           uint8
	start, end, n int32
	hits, misses  int32
}

// appendPartsJSON is appendParts, escaped for the inside of a JSON string;
// raw is the length appendParts would have appended.
func (d *decoder) appendPartsJSON(dst []byte, first int32, fr frame) (_ []byte, raw int) {
	var n int
	for p := first; p >= 0; p = d.nodes[p].next {
		nd := &d.nodes[p]
		switch nd.kind {
		case nText, nCDATA, nEntity:
			if nd.tlen > 0 {
				dst, n = appendUTF16JSON(dst, d.chunk[nd.toff:nd.toff+nd.tlen])
			} else {
				dst, n = appendEscapedJSON(dst, nd.text), len(nd.text)
			}
			raw += n
		case nSubst:
			if v, ok := fr.get(d, nd.sub); ok && v.typ != tBinXML {
				dst, n = d.appendValueJSON(dst, v.typ, d.chunk[v.off:v.off+v.size])
				raw += n
			}
		}
	}
	return dst, raw
}

// appendValueJSON is appendValue, escaped for the inside of a JSON string;
// raw is the length appendValue would have appended.
func (d *decoder) appendValueJSON(dst []byte, t uint8, b []byte) (_ []byte, raw int) {
	switch t {
	case tString:
		return appendUTF16JSON(dst, b)
	case tString | tArray:
		// appendArray's NUL-separated strings.
		var n int
		start, elems := 0, 0
		for i := 0; i+1 < len(b); i += 2 {
			if b[i] == 0 && b[i+1] == 0 {
				if elems++; elems > 1 {
					dst = append(dst, ',')
					raw++
				}
				dst, n = appendUTF16JSON(dst, b[start:i])
				raw += n
				start = i + 2
			}
		}
		if start+1 < len(b) {
			if elems++; elems > 1 {
				dst = append(dst, ',')
				raw++
			}
			dst, n = appendUTF16JSON(dst, b[start:])
			raw += n
		}
		return dst, raw
	case tAnsiString, tAnsiString | tArray:
		// Any byte can occur: render, then escape.
		d.scratch = appendValue(d.scratch[:0], t, b)
		return appendEscapedJSON(dst, string(d.scratch)), len(d.scratch)
	}
	// Every other type renders as ASCII letters, digits and punctuation
	// that JSON strings take as they are (TestAppendValueJSON).
	l := len(dst)
	dst = appendValue(dst, t, b)
	return dst, len(dst) - l
}

// appendEscapedJSON appends s escaped as jsonstr.Append escapes it, without
// the quotes.
func appendEscapedJSON(dst []byte, s string) []byte {
	l := len(dst)
	dst = jsonstr.Append(dst, s)
	copy(dst[l:], dst[l+1:len(dst)-1])
	return dst[:len(dst)-2]
}

// Word-at-a-time constants for 16-bit lanes (UTF-16 units) and 8-bit
// lanes (bytes).
const (
	ones16 = 0x0001000100010001
	tops16 = 0x8000800080008000
	low15  = 0x7fff7fff7fff7fff
	ones8  = 0x0101010101010101
	tops8  = 0x8080808080808080
)

// ctlOrWide16 is non-zero when one of v's four UTF-16 units is a control
// character (NUL included) or U+0080 and above: v's own top bits,
// (v & low15) + 0x7f80 carrying into a lane's top bit without leaving the
// lane, and v - 0x20 borrowing below 0x20 (a borrow only follows a lane
// that is itself below 0x20).
func ctlOrWide16(v uint64) uint64 {
	return (v | ((v & low15) + 0x7f80*ones16) | (v - 0x20*ones16)) & tops16
}

// quoteOrBackslash8 is non-zero when one of the eight bytes of p, all
// below 0x80, is '"' or '\\': p ^ c is zero there, and subtracting one
// borrows into the top bit (which no byte below 0x80 has otherwise).
func quoteOrBackslash8(p uint64) uint64 {
	return (((p ^ '"'*ones8) - ones8) | ((p ^ '\\'*ones8) - ones8)) & tops8
}

// packASCII16 returns the low bytes of v's four 16-bit lanes, whose high
// bytes are zero, as the low four bytes of the result.
func packASCII16(v uint64) uint64 {
	v = (v | v>>8) & 0x0000ffff0000ffff
	return (v | v>>16) & 0xffffffff
}

// appendPrintable appends the k low bytes of p, printable ASCII, escaping
// quotes and backslashes; it returns the bytes added by escaping. Runs are
// stored eight bytes at once, the slice then cut to the run.
func appendPrintable(dst []byte, p uint64, k int) ([]byte, int) {
	extra := 0
	for m := quoteOrBackslash8(p); m != 0; m = quoteOrBackslash8(p) {
		// The lowest flagged byte is exact; p's bytes above k are zero.
		j := bits.TrailingZeros64(m) >> 3
		c := byte(p >> (8 * j))
		dst = binary.LittleEndian.AppendUint64(dst, p)
		dst = append(dst[:len(dst)-8+j], '\\', c)
		extra++
		p >>= 8 * (j + 1) // zero when the flagged byte was the eighth
		k -= j + 1
	}
	dst = binary.LittleEndian.AppendUint64(dst, p)
	return dst[:len(dst)-8+k], extra
}

const hexLower = "0123456789abcdef"

// appendUTF16JSON is appendUTF16 then the escaping of jsonstr.Append (no
// quotes), in one pass: it returns the text appended and the length
// appendUTF16 alone would have appended. Event text is mostly printable
// ASCII with backslashes (paths) and quotes (command lines): eight, then
// four, characters a step while they are, and one at a time from a step
// with anything else.
func appendUTF16JSON(dst []byte, b []byte) (_ []byte, raw int) {
	n := len(b) / 2
	l, extra := len(dst), 0
	i := 0
	for i < n {
		var e int
		for i+8 <= n {
			v := binary.LittleEndian.Uint64(b[2*i:])
			w := binary.LittleEndian.Uint64(b[2*i+8:])
			if ctlOrWide16(v|w)|((v-0x20*ones16)|(w-0x20*ones16))&tops16 != 0 {
				// v|w has a unit of 0x80 and more if v or w has; units
				// below 0x20 are looked for in each.
				break
			}
			dst, e = appendPrintable(dst, packASCII16(v)|packASCII16(w)<<32, 8)
			extra += e
			i += 8
		}
		if i+4 <= n {
			if v := binary.LittleEndian.Uint64(b[2*i:]); ctlOrWide16(v) == 0 {
				dst, e = appendPrintable(dst, packASCII16(v), 4)
				extra += e
				i += 4
				continue
			}
		}
		if i >= n {
			break
		}
		// One character: the first of a step that held something else,
		// or of the last three.
		u := uint16(b[2*i]) | uint16(b[2*i+1])<<8
		i++
		switch {
		case u == 0:
			return dst, len(dst) - l - extra
		case u < 0x80:
			switch u {
			case '"', '\\':
				dst = append(dst, '\\', byte(u))
				extra++
			case '\n':
				dst = append(dst, '\\', 'n')
				extra++
			case '\r':
				dst = append(dst, '\\', 'r')
				extra++
			case '\t':
				dst = append(dst, '\\', 't')
				extra++
			default:
				if u >= 0x20 {
					dst = append(dst, byte(u))
				} else {
					dst = append(dst, '\\', 'u', '0', '0', hexLower[u>>4], hexLower[u&0xf])
					extra += 5
				}
			}
		case u == 0x2028 || u == 0x2029:
			// As jsonstr: they break JavaScript consumers of NDJSON.
			dst = append(dst, '\\', 'u', '2', '0', '2', hexLower[u&0xf])
			extra += 3
		case u < 0xd800 || u >= 0xe000:
			dst = utf8.AppendRune(dst, rune(u))
		case u < 0xdc00 && i < n:
			u2 := uint16(b[2*i]) | uint16(b[2*i+1])<<8
			if u2 >= 0xdc00 && u2 < 0xe000 {
				dst = utf8.AppendRune(dst, (rune(u)-0xd800)<<10|(rune(u2)-0xdc00)+0x10000)
				i++
			} else {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			}
		default:
			dst = utf8.AppendRune(dst, utf8.RuneError)
		}
	}
	return dst, len(dst) - l - extra
}
