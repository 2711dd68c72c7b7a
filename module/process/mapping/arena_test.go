package mapping

import (
	"fmt"
	"strings"
	"testing"
)

// TestArenaKeepsValues: what the arena handed out is never written again,
// across blocks, whatever is asked for after it.
func TestArenaKeepsValues(t *testing.T) {
	var a arena
	a.init()
	var got, want []string
	var lists [][]string
	for i := 0; i < 5000; i++ {
		s := fmt.Sprintf("value %d %s", i, strings.Repeat("x", i%300))
		got = append(got, a.string([]byte(s)))
		want = append(want, s)
		lists = append(lists, a.stringsOf([]string{s, "b"}))
		if i%7 == 0 {
			// Large values get their own allocation.
			big := strings.Repeat("y", 5000+i)
			got = append(got, a.lower(strings.ToUpper(big)))
			want = append(want, big)
		}
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("value %d changed: %.40q, want %.40q", i, got[i], want[i])
		}
	}
	for i, l := range lists {
		if len(l) != 2 || cap(l) != 2 || l[1] != "b" || !strings.HasPrefix(l[0], fmt.Sprintf("value %d ", i)) {
			t.Fatalf("list %d: %q (cap %d)", i, l, cap(l))
		}
	}
	if a.string(nil) != "" || a.lower("") != "" || a.stringsOf(nil) != nil {
		t.Error("empty values must cost nothing")
	}
	if s := a.lower("AUTORITÉ NT"); s != "autorité nt" {
		t.Errorf("lower: %q", s)
	}
}
