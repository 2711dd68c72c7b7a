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
