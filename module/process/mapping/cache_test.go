package mapping

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/internal/lower"
	"github.com/procbeat/procbeat/module/process/argv"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/module/process/winfmt"
)

// TestSplitArgsIsSplit: whatever the cache holds, evicts or refuses
// (long lines, a full budget), splitArgs gives argv.Split's arguments,
// and lowerHash the lower-cased hash.
func TestSplitArgsIsSplit(t *testing.T) {
	m := New(tracker.New(tracker.Options{}), Options{})
	m.split.init(4, 3000) // a few sets, a small budget: evictions and refusals
	m.hashes.init(2, 200)
	r := rand.New(rand.NewPCG(7, 7))
	words := []string{`a`, `"b c"`, `d\"e`, `\\"f`, `""`, "\t", `C:\Windows\x.exe`, `"C:\Program Files\y.exe"`}
	var lines []string
	for i := 0; i < 300; i++ {
		var b strings.Builder
		for n := r.IntN(12); n >= 0; n-- {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		if i%50 == 0 {
			b.WriteString(strings.Repeat("x ", maxCachedLine)) // too long to keep
		}
		lines = append(lines, b.String())
	}
	for i := 0; i < 5000; i++ {
		line := lines[r.IntN(len(lines))]
		if got, want := m.splitArgs(line), argv.Split(line); !slices.Equal(got, want) {
			t.Fatalf("splitArgs(%q) = %q, want %q", line, got, want)
		}
		h := fmt.Sprintf("%032X", r.IntN(400))
		if got, want := m.lowerHash(h), string(lower.Append(nil, h)); got != want {
			t.Fatalf("lowerHash(%q) = %q, want %q", h, got, want)
		}
	}
	if m.split.held > m.split.budget || m.hashes.held > m.hashes.budget {
		t.Errorf("held %d and %d bytes, over budget", m.split.held, m.hashes.held)
	}
}

// TestHashesOfIsSplit: hashesOf gives winfmt.SplitHashes's hashes
// lower-cased as lowerHash does, cached, refused by the budget, or too
// long to cache.
func TestHashesOfIsSplit(t *testing.T) {
	m := New(tracker.New(tracker.Options{}), Options{})
	m.hashValues.init(2, 2000)
	r := rand.New(rand.NewPCG(3, 3))
	var values []string
	for i := 0; i < 200; i++ {
		v := fmt.Sprintf("SHA1=%040X,MD5=%032x,SHA256=%064X,IMPHASH=%032X", r.IntN(50), r.IntN(50), r.IntN(50), r.IntN(3))
		switch i % 20 {
		case 1:
			v = strings.ToLower(v)
		case 2:
			v += ",SHA384=" + strings.Repeat("X", maxCachedHashes) // too long to cache
		case 3:
			v = "MD5=ÄBC, sha1 = 00AB"
		case 4:
			v = ""
		}
		values = append(values, v)
	}
	for i := 0; i < 3000; i++ {
		v := values[r.IntN(len(values))]
		got, err := m.hashesOf(v)
		want := winfmt.SplitHashes(v)
		if bad := checkHashes(v, &want); bad != nil || err != nil {
			// Reported each time, never cached as sound; the sound
			// hashes are kept (want has the bad ones cleared).
			if bad == nil || err == nil || err.Error() != bad.Error() {
				t.Fatalf("hashesOf(%q): error %v, want %v", v, err, bad)
			}
		}
		low := winfmt.Hashes{MD5: lowerOwn(want.MD5), SHA1: lowerOwn(want.SHA1), SHA256: lowerOwn(want.SHA256), IMPHASH: lowerOwn(want.IMPHASH)}
		if *got != low {
			t.Fatalf("hashesOf(%q) = %+v, want %+v (split: %+v)", v, *got, low, want)
		}
		if want.SHA1 != "" && low.SHA1 != string(lower.Append(nil, want.SHA1)) {
			t.Fatalf("lowerOwn(%q) = %q", want.SHA1, low.SHA1)
		}
	}
	if m.hashValues.held > m.hashValues.budget {
		t.Errorf("held %d bytes, over budget", m.hashValues.held)
	}
}

// TestSIDForIsTrackers: sidFor answers as tracker.SIDFor does, whatever
// names it was asked before (its memory of the last ones).
func TestSIDForIsTrackers(t *testing.T) {
	tr := tracker.New(tracker.Options{})
	tr.Learn("h", "CORP", "bob", "0x1234", "S-1-5-21-1-2-3-1001")
	m := New(tr, Options{})
	names := [][2]string{{"NT AUTHORITY", "SYSTEM"}, {"nt authority", "local service"}, {"CORP", "bob"}, {"corp", "BOB "}, {"", "SYSTEM"}, {"Window Manager", "DWM-3"}, {"CORP", "alice"}, {"", ""}}
	logons := []string{"0x1234", "0x3e7", "", "0x99"}
	r := rand.New(rand.NewPCG(5, 5))
	for i := 0; i < 2000; i++ {
		n, l := names[r.IntN(len(names))], logons[r.IntN(len(logons))]
		want, _ := tr.SIDFor("h", n[0], n[1], l)
		if got := m.sidFor("h", n[0], n[1], l); got != want {
			t.Fatalf("sidFor(%q, %q, %q) = %q, want %q", n[0], n[1], l, got, want)
		}
	}
}
