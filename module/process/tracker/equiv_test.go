package tracker

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"
)

// syntheticEntityIDReference is SyntheticEntityID as it was before it
// stopped allocating four times (issue 17).
func syntheticEntityIDReference(host string, pid uint32, start time.Time) string {
	const epochDelta = 11644473600
	start = start.UTC()
	secs := start.Unix() + epochDelta
	ticks := start.Nanosecond() / 100
	buf := make([]byte, 0, len(host)+40)
	buf = append(buf, strings.ToLower(host)...)
	buf = append(buf, '-')
	buf = strconv.AppendUint(buf, uint64(pid), 10)
	buf = append(buf, '-')
	buf = strconv.AppendInt(buf, secs, 10)
	buf = append(buf, '.')
	frac := strconv.Itoa(ticks)
	for i := len(frac); i < 7; i++ {
		buf = append(buf, '0')
	}
	buf = append(buf, frac...)
	return base64.StdEncoding.EncodeToString(buf)
}

func FuzzSyntheticEntityIDEqualsReference(f *testing.F) {
	f.Add("WKS-042.corp.example.com", uint32(4), int64(1549604215453595300))
	f.Add("", uint32(0), int64(0))
	f.Add("AUTORITÉ-\u212a-"+strings.Repeat("X", 200), uint32(1<<32-1), int64(-1))
	f.Fuzz(func(t *testing.T, host string, pid uint32, ns int64) {
		at := time.Unix(0, ns)
		if got, want := SyntheticEntityID(host, pid, at), syntheticEntityIDReference(host, pid, at); got != want {
			t.Errorf("SyntheticEntityID(%q, %d, %v) = %q, want %q", host, pid, at, got, want)
		}
	})
}

func FuzzUpperKeyEqualsUpper(f *testing.F) {
	for _, s := range []string{"", "nt authority", "SYSTEM", "Autorité NT", "dwm-1", strings.Repeat("a", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf [64]byte
		if got, want := upperKey(buf[:], s), upper(s); got != want {
			t.Errorf("upperKey(%q) = %q, want %q", s, got, want)
		}
	})
}
