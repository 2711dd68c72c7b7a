// Package rfc3339 formats times as RFC 3339 text by hand, for encoders
// that write one or two timestamps per document: time.Time.AppendFormat
// parses its layout on every call, which a profile of replay showed as a
// visible share of the encoding.
package rfc3339

import "time"

// AppendMillisUTC appends t in UTC as 2006-01-02T15:04:05.000Z, exactly as
// t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00") does.
func AppendMillisUTC(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	}
	b = appendDateTime(b, year, month, day, t)
	ms := t.Nanosecond() / 1e6
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, 'Z')
}

// AppendNano appends t as time.RFC3339Nano does (fraction without
// trailing zeros, none when zero), by hand when t is in UTC and through
// AppendFormat otherwise.
func AppendNano(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if t.Location() != time.UTC || year < 0 || year > 9999 {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	b = appendDateTime(b, year, month, day, t)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z')
}

func appendDateTime(b []byte, year int, month time.Month, day int, t time.Time) []byte {
	hour, minute, sec := t.Clock()
	m := int(month)
	return append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
}
