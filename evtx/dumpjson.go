package evtx

import (
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

// appendRecordJSON renders a record as one JSON object.
func appendRecordJSON(dst []byte, r *winevent.Record) []byte {
	dst = appendRecordJSONHead(dst, r)
	for i, d := range r.Data {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendDataJSONName(dst, d.Name)
		dst = jsonstr.Append(dst, d.Value)
		dst = append(dst, '}')
	}
	return append(dst, ']', '}')
}

// appendRecordJSONHead renders a record's System fields and opens its Data
// array.
func appendRecordJSONHead(dst []byte, r *winevent.Record) []byte {
	// Keys are constants that need no escaping.
	dst = append(dst, `{"Provider":`...)
	dst = jsonstr.Append(dst, r.Provider)
	dst = append(dst, `,"EventID":`...)
	dst = strconv.AppendUint(dst, uint64(r.EventID), 10)
	dst = append(dst, `,"Version":`...)
	dst = strconv.AppendUint(dst, uint64(r.Version), 10)
	dst = append(dst, `,"RecordID":`...)
	dst = strconv.AppendUint(dst, r.RecordID, 10)
	dst = append(dst, `,"Channel":`...)
	dst = jsonstr.Append(dst, r.Channel)
	dst = append(dst, `,"Computer":`...)
	dst = jsonstr.Append(dst, r.Computer)
	dst = append(dst, `,"TimeCreated":"`...)
	dst = rfc3339.AppendNano(dst, r.TimeCreated)
	dst = append(dst, `","UserID":`...)
	dst = jsonstr.Append(dst, r.UserID)
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
	if d.jdata > 0 {
		d.out = append(d.out, ',')
	}
	d.jdata++
	d.out = appendDataJSONName(d.out, name)
	d.out = append(d.out, '"')
	var raw int
	d.out, raw = d.appendPartsJSON(d.out, first, fr)
	d.jraw += raw
	d.out = append(d.out, '"', '}')
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

// jsonSpecial16 returns a word whose lane k (16 bits) has its top bit set
// when UTF-16 unit k of v is not a plain ASCII character that JSON takes as
// it is (a control character or NUL, '"', '\\' or anything from U+0080 up),
// or when a lower lane is (borrows only go upwards, so the lowest set lane
// is always exact).
func jsonSpecial16(v uint64) uint64 {
	const (
		ones  = 0x0001000100010001
		tops  = 0x8000800080008000
		low15 = 0x7fff7fff7fff7fff
	)
	// v's own top bits, and (v & low15) + 0x7f80 carrying into the top bit
	// without leaving the lane: units of 0x80 and more. For units below
	// 0x80: v - 0x20 borrows below 0x20; (v ^ c) - 1 borrows where v == c.
	return (v | ((v & low15) + 0x7f80*ones) | (v - 0x20*ones) |
		((v ^ '"'*ones) - ones) | ((v ^ '\\'*ones) - ones)) & tops
}

const hexLower = "0123456789abcdef"

// appendUTF16JSON is appendUTF16 then the escaping of jsonstr.Append (no
// quotes), in one pass: it returns the text appended and the length
// appendUTF16 alone would have appended. Event text is mostly ASCII with
// backslashes (paths), so plain runs are copied four characters a step and
// only the odd character takes the slow way.
func appendUTF16JSON(dst []byte, b []byte) (_ []byte, raw int) {
	n := len(b) / 2
	l, extra := len(dst), 0
	i := 0
	for i < n {
		for i+4 <= n {
			v := binary.LittleEndian.Uint64(b[2*i:])
			m := jsonSpecial16(v)
			if m == 0 {
				dst = append(dst, byte(v), byte(v>>16), byte(v>>32), byte(v>>48))
				i += 4
				continue
			}
			for k := bits.TrailingZeros64(m) >> 4; k > 0; k-- {
				dst = append(dst, byte(v))
				v >>= 16
				i++
			}
			break
		}
		if i >= n {
			break
		}
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
