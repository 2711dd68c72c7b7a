// Package document is the Go form of a procbeat document. document_gen.go is
// generated from the field catalog by tools/gendocument; this file holds the
// hand-written value types and JSON helpers it uses.
package document

import (
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/procbeat/procbeat/internal/jsonstr"
	"github.com/procbeat/procbeat/internal/rfc3339"
)

// Long is a long field that may be absent; zero is a real value (pid 0,
// exit code 0), so presence is explicit.
type Long struct {
	Value int64
	Valid bool
}

// Ulong is an unsigned_long field that may be absent.
type Ulong struct {
	Value uint64
	Valid bool
}

// Double is a double field that may be absent.
type Double struct {
	Value float64
	Valid bool
}

// Bool is a boolean field that may be absent.
type Bool struct {
	Value bool
	Valid bool
}

// LongOf, UlongOf, DoubleOf and BoolOf build present values.
func LongOf(v int64) Long       { return Long{Value: v, Valid: true} }
func UlongOf(v uint64) Ulong    { return Ulong{Value: v, Valid: true} }
func DoubleOf(v float64) Double { return Double{Value: v, Valid: true} }
func BoolOf(v bool) Bool        { return Bool{Value: v, Valid: true} }

func (v Long) appendJSON(b []byte) []byte {
	if v.Value < 0 {
		// Exit codes only, and rarely.
		return strconv.AppendInt(b, v.Value, 10)
	}
	return appendUint(b, uint64(v.Value))
}
func (v Ulong) appendJSON(b []byte) []byte { return appendUint(b, v.Value) }

// appendUint writes v in decimal as strconv.AppendUint does, but straight
// into b: strconv formats into a buffer of its own and copies it with a
// call to memmove, which showed in the encoder's profile (pids, sequence
// numbers, counts: five or six numbers a document).
func appendUint(b []byte, v uint64) []byte {
	// The digits: log10(2) is about 1233/4096, so n is the count for
	// the bits of v or one less, which the power of ten tells (v|1 has
	// the digits of v, and one for zero: an even number plus one is
	// never a power of ten).
	u := v | 1
	n := bits.Len64(u) * 1233 >> 12
	if u >= pow10[n] {
		n++
	}
	o := len(b)
	b = slices.Grow(b, n)[:o+n]
	i := o + n
	for v >= 100 {
		q := v / 100
		r := (v - q*100) * 2
		b[i-2], b[i-1] = digits2[r], digits2[r+1]
		i -= 2
		v = q
	}
	if v >= 10 {
		b[i-2], b[i-1] = digits2[v*2], digits2[v*2+1]
	} else {
		b[i-1] = byte('0' + v)
	}
	return b
}

// pow10[k] is 10^k, up to the largest that fits in a uint64.
var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// digits2 holds 00 to 99, two bytes each.
const digits2 = "00010203040506070809" + "10111213141516171819" + "20212223242526272829" +
	"30313233343536373839" + "40414243444546474849" + "50515253545556575859" +
	"60616263646566676869" + "70717273747576777879" + "80818283848586878889" +
	"90919293949596979899"

func (v Bool) appendJSON(b []byte) []byte { return strconv.AppendBool(b, v.Value) }
func (v Double) appendJSON(b []byte) []byte {
	return strconv.AppendFloat(b, v.Value, 'g', -1, 64)
}

// AppendJSON appends d as one JSON object (no trailing newline). Absent
// fields and empty objects are left out.
func (d *Document) AppendJSON(b []byte) []byte {
	b, ok := d.appendJSON(b)
	if !ok {
		return append(b, "{}"...)
	}
	return b
}

// appendTime writes RFC 3339 with milliseconds in UTC, the form Defend uses.
func appendTime(b []byte, t time.Time) []byte {
	return appendTimeAfterQuote(append(b, '"'), t)
}

// appendTimeAfterQuote is appendTime for a b that ends with the opening
// quote already (the generated encoder writes it with the key).
func appendTimeAfterQuote(b []byte, t time.Time) []byte {
	b = rfc3339.AppendMillisUTC(b, t)
	return append(b, '"')
}

// appendStringsAfterQuote writes ss, not empty, as a JSON array for a b
// that ends with its opening bracket and its first string's opening quote.
func appendStringsAfterQuote(b []byte, ss []string) []byte {
	b = jsonstr.AppendAfterQuote(b, ss[0])
	for _, s := range ss[1:] {
		b = append(b, ',', '"')
		b = jsonstr.AppendAfterQuote(b, s)
	}
	return append(b, ']')
}

// appendString writes s as a JSON string.
func appendString(b []byte, s string) []byte { return jsonstr.Append(b, s) }

// appendStringAfterQuote writes s as a JSON string for a b that ends with
// the opening quote already.
func appendStringAfterQuote(b []byte, s string) []byte { return jsonstr.AppendAfterQuote(b, s) }

// AppendString appends s as a JSON string, for encoders of other shapes
// (the CAR codec) that must escape exactly as documents do.
func AppendString(b []byte, s string) []byte { return jsonstr.Append(b, s) }

// AppendTime appends t as a JSON string in the documents' time format.
func AppendTime(b []byte, t time.Time) []byte { return appendTime(b, t) }

// RawObject is an object field of free keys (labels) held as its JSON
// encoding, made once by NewRawObject and spliced into every document as it
// is: documents share it read-only, and encoding it costs a copy.
type RawObject struct{ json []byte }

// NewRawObject encodes values as a JSON object of string values, keys in
// sorted order; an empty map gives the absent object.
func NewRawObject(values map[string]string) RawObject {
	if len(values) == 0 {
		return RawObject{}
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, values[k])
	}
	return RawObject{json: append(b, '}')}
}
