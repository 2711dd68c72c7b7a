package jsonstr

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestAppendRoundTrips(t *testing.T) {
	for _, s := range []string{"", "plain", `C:\Windows\"quoted"`, "tab\tnl\ncr\r\x00\x1f", "é漢字🙂", "\u2028\u2029", "bad\xffutf8", "a\xc3"} {
		out := Append([]byte("x"), s)
		if out[0] != 'x' {
			t.Fatalf("%q: prefix lost", s)
		}
		var back string
		if err := json.Unmarshal(out[1:], &back); err != nil {
			t.Fatalf("%q: invalid JSON %s: %v", s, out[1:], err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = string([]rune(s)) // invalid bytes become U+FFFD, as encoding/json does
		}
		if back != want {
			t.Errorf("%q: round trip gave %q", s, back)
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("C:\\x\"y\n")
	f.Fuzz(func(t *testing.T, s string) {
		var back string
		if err := json.Unmarshal(Append(nil, s), &back); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("%q became %q", s, back)
		}
	})
}
