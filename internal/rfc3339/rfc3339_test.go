package rfc3339

import (
	"math/rand/v2"
	"testing"
	"time"
)

// times covers the edges (zero fraction, one nanosecond, the year range
// the hand path takes and both sides of it, other zones) and random
// instants.
func times() []time.Time {
	east := time.FixedZone("east", 5*3600+1800)
	ts := []time.Time{
		{},
		time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(5, 2, 3, 4, 5, 6, 7000000, time.UTC),
		time.Date(2026, 11, 27, 15, 4, 5, 0, time.UTC),
		time.Date(2026, 11, 27, 15, 4, 5, 1, time.UTC),
		time.Date(2026, 11, 27, 15, 4, 5, 100000000, time.UTC),
		time.Date(2026, 11, 27, 15, 4, 5, 999999999, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 120000, east),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 5, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 5, time.UTC),
		time.Date(2026, 3, 29, 1, 30, 0, 0, time.Local),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		sec := rng.Int64N(400 * 365 * 86400)
		t := time.Unix(sec-200*365*86400, rng.Int64N(1e9)).UTC()
		switch rng.IntN(4) {
		case 0:
			t = t.Truncate(time.Second)
		case 1:
			t = t.Truncate(time.Millisecond)
		case 2:
			t = t.In(east)
		}
		ts = append(ts, t)
	}
	return ts
}

func TestAppendMillisUTCMatchesAppendFormat(t *testing.T) {
	for _, tm := range times() {
		want := tm.UTC().AppendFormat([]byte("x"), "2006-01-02T15:04:05.000Z07:00")
		if got := AppendMillisUTC([]byte("x"), tm); string(got) != string(want) {
			t.Fatalf("%v: %s, want %s", tm, got, want)
		}
	}
}

func TestAppendNanoMatchesRFC3339Nano(t *testing.T) {
	for _, tm := range times() {
		want := tm.AppendFormat([]byte("x"), time.RFC3339Nano)
		if got := AppendNano([]byte("x"), tm); string(got) != string(want) {
			t.Fatalf("%v: %s, want %s", tm, got, want)
		}
	}
}

// FuzzAppendMillisUTC compares AppendMillisUTC with AppendFormat and with
// the code it replaced at any instant, inside the hand path's years and
// out of them.
func FuzzAppendMillisUTC(f *testing.F) {
	f.Add(int64(0), int64(0))
	f.Add(int64(minSec), int64(999999999))
	f.Add(int64(maxSec-1), int64(1))
	f.Add(int64(951782400), int64(5e8)) // 2000-02-29
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		tm := time.Unix(sec, nsec)
		want := tm.UTC().AppendFormat(nil, "2006-01-02T15:04:05.000Z07:00")
		if got := AppendMillisUTC(nil, tm); string(got) != string(want) {
			t.Fatalf("%d.%09d: %s, want %s", sec, nsec, got, want)
		}
		if got, prev := AppendMillisUTC(nil, tm), previousMillisUTC(nil, tm); string(got) != string(prev) {
			t.Fatalf("%d.%09d: %s, previous %s", sec, nsec, got, prev)
		}
	})
}

// Every day of the Gregorian years around ours (1583 to 2599), and every
// 97th elsewhere in the hand path's years, at the first and last second.
func TestAppendMillisUTCEveryDay(t *testing.T) {
	from, to := time.Date(1583, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2600, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for sec := int64(minSec); sec < maxSec; sec += 86400 {
		if sec < from || sec >= to {
			sec += 96 * 86400
		}
		for _, tm := range []time.Time{time.Unix(sec, 0), time.Unix(sec+86399, 999999999)} {
			want := tm.UTC().AppendFormat(nil, "2006-01-02T15:04:05.000Z07:00")
			if got := AppendMillisUTC(nil, tm); string(got) != string(want) {
				t.Fatalf("%v: %s, want %s", tm, got, want)
			}
		}
	}
}

// previousMillisUTC is AppendMillisUTC as it was before the day-number
// arithmetic (t.Date and t.Clock), kept as the fuzz test's reference and
// the benchmark's baseline.
func previousMillisUTC(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	}
	hour, minute, sec := t.Clock()
	m := int(month)
	b = append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	ms := t.Nanosecond() / 1e6
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, 'Z')
}

func BenchmarkAppend(b *testing.B) {
	tm := time.Date(2026, 11, 27, 15, 4, 5, 123456700, time.UTC)
	buf := make([]byte, 0, 64)
	b.Run("millis", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendMillisUTC(buf[:0], tm)
		}
	})
	b.Run("millis/previous", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = previousMillisUTC(buf[:0], tm)
		}
	})
	b.Run("millis/AppendFormat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = tm.UTC().AppendFormat(buf[:0], "2006-01-02T15:04:05.000Z07:00")
		}
	})
	b.Run("nano", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendNano(buf[:0], tm)
		}
	})
	b.Run("nano/AppendFormat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = tm.AppendFormat(buf[:0], time.RFC3339Nano)
		}
	})
}
