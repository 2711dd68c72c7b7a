package document

import (
	"math"
	"strconv"
	"testing"
)

// FuzzAppendUint compares appendUint with strconv.AppendUint, the code it
// replaced, after prefixes in buffers with and without room.
func FuzzAppendUint(f *testing.F) {
	for _, v := range []uint64{0, 9, 10, 99, 100, 4312, 1e9 - 1, 1e9, math.MaxInt64, 1e19 - 1, 1e19, math.MaxUint64} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v uint64) {
		for _, b := range [][]byte{nil, []byte("x"), make([]byte, 2, 40)} {
			want := strconv.AppendUint(append([]byte(nil), b...), v, 10)
			if got := appendUint(b, v); string(got) != string(want) {
				t.Fatalf("%d: %s, want %s", v, got, want)
			}
		}
	})
}

// Every power of ten and its neighbours, and Long's negative values.
func TestAppendNumbers(t *testing.T) {
	for k := 0; k < 20; k++ {
		p := uint64(1)
		for range k {
			p *= 10
		}
		for _, v := range []uint64{p - 1, p, p + 1} {
			if got, want := string(appendUint(nil, v)), strconv.FormatUint(v, 10); got != want {
				t.Errorf("%d: %s", v, got)
			}
		}
	}
	for _, v := range []int64{math.MinInt64, -1, 0, 1, 3221225477, math.MaxInt64} {
		if got, want := string(LongOf(v).appendJSON(nil)), strconv.FormatInt(v, 10); got != want {
			t.Errorf("%d: %s", v, got)
		}
	}
}
