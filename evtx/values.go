package evtx

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/procbeat/procbeat/internal/utf16le"
)

// BinXML value types (MS-EVEN6 2.2.13 / EVT_VARIANT_TYPE).
const (
	tNull       = 0x00
	tString     = 0x01
	tAnsiString = 0x02
	tInt8       = 0x03
	tUint8      = 0x04
	tInt16      = 0x05
	tUint16     = 0x06
	tInt32      = 0x07
	tUint32     = 0x08
	tInt64      = 0x09
	tUint64     = 0x0a
	tReal32     = 0x0b
	tReal64     = 0x0c
	tBool       = 0x0d
	tBinary     = 0x0e
	tGUID       = 0x0f
	tSizeT      = 0x10
	tFileTime   = 0x11
	tSysTime    = 0x12
	tSID        = 0x13
	tHexInt32   = 0x14
	tHexInt64   = 0x15
	tEvtHandle  = 0x20
	tBinXML     = 0x21
	tEvtXML     = 0x23
	tArray      = 0x80
)

const hexUpper = "0123456789ABCDEF"

// appendANSI appends an 8-bit string; bytes that are not valid UTF-8 are
// taken as Latin-1 so the output is always valid UTF-8.
func appendANSI(dst []byte, b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for _, c := range b {
		if c == 0 {
			break
		}
		dst = utf8.AppendRune(dst, rune(c))
	}
	return dst
}

func appendHexUpper(dst []byte, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexUpper[c>>4], hexUpper[c&0xf])
	}
	return dst
}

// guidOrder is the order of a GUID's bytes in its text form (the first
// three fields are little-endian), guidPos where each byte's two digits go.
const (
	guidOrder = "\x03\x02\x01\x00\x05\x04\x07\x06\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
	guidPos   = "\x01\x03\x05\x07\x0a\x0c\x0f\x11\x14\x16\x19\x1b\x1d\x1f\x21\x23"
)

// appendGUID renders 16 bytes as {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX},
// into a fixed array first: GUIDs are in most records, several times.
func appendGUID(dst []byte, b []byte) []byte {
	_ = b[15]
	t := [38]byte{0: '{', 9: '-', 14: '-', 19: '-', 24: '-', 37: '}'}
	for k := 0; k < 16; k++ {
		c, p := b[guidOrder[k]], guidPos[k]
		t[p], t[p+1] = hexUpper[c>>4], hexUpper[c&0xf]
	}
	return append(dst, t[:]...)
}

func appendHexInt(dst []byte, v uint64) []byte {
	dst = append(dst, '0', 'x')
	return strconv.AppendUint(dst, v, 16)
}

// sidLen returns the length of the SID at the start of b, or -1.
func sidLen(b []byte) int {
	if len(b) < 8 {
		return -1
	}
	n := 8 + 4*int(b[1])
	if n > len(b) {
		return -1
	}
	return n
}

func appendSID(dst []byte, b []byte) []byte {
	n := sidLen(b)
	if n < 0 {
		return appendHexUpper(dst, b)
	}
	dst = append(dst, 'S', '-')
	dst = strconv.AppendUint(dst, uint64(b[0]), 10)
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, auth, 10)
	for i := 8; i+4 <= n; i += 4 {
		dst = append(dst, '-')
		dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(b[i:])), 10)
	}
	return dst
}

// filetimeToTime converts 100 ns ticks since 1601 to UTC.
func filetimeToTime(ft uint64) time.Time {
	const epochDiff = 11644473600 // seconds from 1601 to 1970
	secs := int64(ft/10000000) - epochDiff
	nsec := int64(ft%10000000) * 100
	return time.Unix(secs, nsec).UTC()
}

func systemtimeToTime(b []byte) time.Time {
	le := binary.LittleEndian
	return time.Date(int(le.Uint16(b[0:])), time.Month(le.Uint16(b[2:])), int(le.Uint16(b[6:])),
		int(le.Uint16(b[8:])), int(le.Uint16(b[10:])), int(le.Uint16(b[12:])),
		int(le.Uint16(b[14:]))*int(time.Millisecond), time.UTC)
}

// fixedSize is the element size of fixed-width types (0 for variable ones).
func fixedSize(t uint8) int {
	switch t {
	case tInt8, tUint8:
		return 1
	case tInt16, tUint16:
		return 2
	case tInt32, tUint32, tReal32, tHexInt32, tBool:
		return 4
	case tInt64, tUint64, tReal64, tFileTime, tHexInt64:
		return 8
	case tGUID, tSysTime:
		return 16
	}
	return 0
}

// appendValue renders one substitution value the way Windows renders it in
// event XML. Values that are too short for their type fall back to upper-case
// hex of the raw bytes rather than failing the whole record.
func appendValue(dst []byte, t uint8, b []byte) []byte {
	if t&tArray != 0 {
		return appendArray(dst, t&^tArray, b)
	}
	le := binary.LittleEndian
	switch t {
	case tNull:
		return dst
	case tString:
		return utf16le.Append(dst, b)
	case tAnsiString:
		return appendANSI(dst, b)
	case tBinary:
		return appendHexUpper(dst, b)
	case tSID:
		return appendSID(dst, b)
	case tBool:
		// Sizes vary in the wild; any non-zero byte is true.
		for _, c := range b {
			if c != 0 {
				return append(dst, "true"...)
			}
		}
		return append(dst, "false"...)
	case tSizeT:
		switch len(b) {
		case 4:
			return appendHexInt(dst, uint64(le.Uint32(b)))
		case 8:
			return appendHexInt(dst, le.Uint64(b))
		}
		return appendHexUpper(dst, b)
	}
	if n := fixedSize(t); n == 0 || len(b) < n {
		// Unknown type or short value: keep the bytes visible.
		return appendHexUpper(dst, b)
	}
	switch t {
	case tInt8:
		return strconv.AppendInt(dst, int64(int8(b[0])), 10)
	case tUint8:
		return strconv.AppendUint(dst, uint64(b[0]), 10)
	case tInt16:
		return strconv.AppendInt(dst, int64(int16(le.Uint16(b))), 10)
	case tUint16:
		return strconv.AppendUint(dst, uint64(le.Uint16(b)), 10)
	case tInt32:
		return strconv.AppendInt(dst, int64(int32(le.Uint32(b))), 10)
	case tUint32:
		return strconv.AppendUint(dst, uint64(le.Uint32(b)), 10)
	case tInt64:
		return strconv.AppendInt(dst, int64(le.Uint64(b)), 10)
	case tUint64:
		return strconv.AppendUint(dst, le.Uint64(b), 10)
	case tReal32:
		return strconv.AppendFloat(dst, float64(math.Float32frombits(le.Uint32(b))), 'g', -1, 32)
	case tReal64:
		return strconv.AppendFloat(dst, math.Float64frombits(le.Uint64(b)), 'g', -1, 64)
	case tGUID:
		return appendGUID(dst, b)
	case tFileTime:
		return filetimeToTime(le.Uint64(b)).AppendFormat(dst, time.RFC3339Nano)
	case tSysTime:
		return systemtimeToTime(b).AppendFormat(dst, time.RFC3339Nano)
	case tHexInt32:
		return appendHexInt(dst, uint64(le.Uint32(b)))
	case tHexInt64:
		return appendHexInt(dst, le.Uint64(b))
	}
	return appendHexUpper(dst, b)
}

// appendArray renders an array value as its elements joined by commas.
func appendArray(dst []byte, t uint8, b []byte) []byte {
	first := true
	sep := func() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
	}
	switch t {
	case tString:
		// NUL-separated UTF-16 strings.
		start := 0
		for i := 0; i+1 < len(b); i += 2 {
			if b[i] == 0 && b[i+1] == 0 {
				sep()
				dst = utf16le.Append(dst, b[start:i])
				start = i + 2
			}
		}
		if start+1 < len(b) {
			sep()
			dst = utf16le.Append(dst, b[start:])
		}
		return dst
	case tAnsiString:
		start := 0
		for i, c := range b {
			if c == 0 {
				sep()
				dst = appendANSI(dst, b[start:i])
				start = i + 1
			}
		}
		if start < len(b) {
			sep()
			dst = appendANSI(dst, b[start:])
		}
		return dst
	case tSID:
		for len(b) > 0 {
			n := sidLen(b)
			if n < 0 {
				break
			}
			sep()
			dst = appendSID(dst, b[:n])
			b = b[n:]
		}
		return dst
	case tSizeT:
		n := 8
		if len(b)%8 != 0 {
			n = 4
		}
		for ; len(b) >= n; b = b[n:] {
			sep()
			dst = appendValue(dst, t, b[:n])
		}
		return dst
	}
	n := fixedSize(t)
	if n == 0 {
		return appendHexUpper(dst, b)
	}
	for ; len(b) >= n; b = b[n:] {
		sep()
		dst = appendValue(dst, t, b[:n])
	}
	return dst
}

// valueUint reads an integer value directly, without rendering it.
func valueUint(t uint8, b []byte) (uint64, bool) {
	le := binary.LittleEndian
	switch {
	case (t == tInt8 || t == tUint8) && len(b) >= 1:
		return uint64(b[0]), true
	case (t == tInt16 || t == tUint16) && len(b) >= 2:
		return uint64(le.Uint16(b)), true
	case (t == tInt32 || t == tUint32 || t == tHexInt32) && len(b) >= 4:
		return uint64(le.Uint32(b)), true
	case (t == tInt64 || t == tUint64 || t == tHexInt64) && len(b) >= 8:
		return le.Uint64(b), true
	case t == tSizeT && len(b) == 4:
		return uint64(le.Uint32(b)), true
	case t == tSizeT && len(b) == 8:
		return le.Uint64(b), true
	}
	return 0, false
}

// parseUintText parses decimal or 0x-prefixed hex text.
func parseUintText(b []byte) (uint64, bool) {
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		var v uint64
		for _, c := range b[2:] {
			var d byte
			switch {
			case c >= '0' && c <= '9':
				d = c - '0'
			case c >= 'a' && c <= 'f':
				d = c - 'a' + 10
			case c >= 'A' && c <= 'F':
				d = c - 'A' + 10
			default:
				return 0, false
			}
			v = v<<4 | uint64(d)
		}
		return v, true
	}
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}
