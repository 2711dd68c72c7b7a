package lower

import (
	"strings"
	"testing"
)

func TestAppendIsToLower(t *testing.T) {
	for _, s := range []string{"", "abc", "ABC", "C:\\Windows\\System32\\CMD.EXE", "DESKTOP-01.Corp", "AUTORITÉ NT", "\u212a", "ſ", "a\xffB", "0x3E7"} {
		if got, want := string(Append([]byte("x"), s)), "x"+strings.ToLower(s); got != want {
			t.Errorf("Append(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzAppendIsToLower(f *testing.F) {
	f.Add("MiXeD Case é")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(Append(nil, s)), strings.ToLower(s); got != want {
			t.Errorf("Append(%q) = %q, want %q", s, got, want)
		}
	})
}
