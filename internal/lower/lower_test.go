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

// isUpperReference is IsUpper a byte at a time.
func isUpperReference(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || ('a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

func TestIsUpper(t *testing.T) {
	for _, s := range []string{"", "A", "a", "{4E2A7A6C-1F3B-5D8E-0000-0010ABCDEF12}", "{4E2A7A6C-1F3B-5D8E-0000-0010abcdef12}", "ABCDEFGHz", "ABCDEFGH\x80", "@[`{", "ÉCOLE", "0123456789ABCDEF0123456789abcdef"} {
		if got, want := IsUpper(s), isUpperReference(s); got != want {
			t.Errorf("IsUpper(%q) = %v, want %v", s, got, want)
		}
		if IsUpper(s) && strings.ToUpper(s) != s {
			t.Errorf("IsUpper(%q) but ToUpper changes it", s)
		}
	}
}

func FuzzIsUpper(f *testing.F) {
	f.Add("{4E2A7A6C-1F3B-5D8E-0000-0010ABCDEF12}")
	f.Add("@[`{ÿ")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := IsUpper(s), isUpperReference(s); got != want {
			t.Errorf("IsUpper(%q) = %v, want %v", s, got, want)
		}
	})
}

// Every byte value, alone and among others, at each offset of a word.
func TestAppendEveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 17; pos++ {
			b := []byte("AbCdEfGhIjKlMnOpQ")
			b[pos] = byte(c)
			s := string(b)
			if got, want := string(Append(nil, s)), strings.ToLower(s); got != want {
				t.Fatalf("Append(%q) = %q, want %q", s, got, want)
			}
			if got, want := IsUpper(s), isUpperReference(s); got != want {
				t.Fatalf("IsUpper(%q) = %v, want %v", s, got, want)
			}
			u := strings.ToUpper("abcdefghijklmnopq")
			ub := []byte(u)
			ub[pos] = byte(c)
			if got, want := IsUpper(string(ub)), isUpperReference(string(ub)); got != want {
				t.Fatalf("IsUpper(%q) = %v, want %v", ub, got, want)
			}
		}
	}
}

func FuzzIsASCII(f *testing.F) {
	f.Add("C:\\Windows\\System32\\cmd.exe")
	f.Add("SHA1=AB,MD5=É")
	f.Fuzz(func(t *testing.T, s string) {
		want := true
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				want = false
			}
		}
		if got := IsASCII(s); got != want {
			t.Errorf("IsASCII(%q) = %v, want %v", s, got, want)
		}
	})
}
