package tracker

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/module/process/winfmt"
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

// TestSavedEntriesAsBefore: the mapping keeps hashes as logged and only
// the argument count; state files still hold hashes lower-cased and the
// arguments, as earlier versions wrote and read them.
func TestSavedEntriesAsBefore(t *testing.T) {
	tr := New(Options{})
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tr.Start("h", Entry{EntityID: "{A}", PID: 7, CommandLine: `cmd.exe /c "x y"`, ArgsCount: 3, Start: at,
		Hashes: winfmt.Hashes{MD5: "ABCDEF", SHA256: "abc123"}})
	var buf strings.Builder
	if err := tr.Save(&buf); err != nil {
		t.Fatal(err)
	}
	saved := buf.String()
	for _, want := range []string{`"args":["cmd.exe","/c","x y"]`, `"args_count":3`, `"MD5":"abcdef"`, `"SHA256":"abc123"`} {
		if !strings.Contains(saved, want) {
			t.Errorf("saved state lacks %s:\n%s", want, saved)
		}
	}
	if e, _ := tr.Lookup("h", "{A}"); e.Hashes.MD5 != "ABCDEF" || e.Args != nil {
		t.Errorf("saving changed the live entry: %+v", e)
	}
}
