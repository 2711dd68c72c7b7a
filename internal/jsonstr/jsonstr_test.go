package jsonstr

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/procbeat/procbeat/internal/cputime"
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
		if got, want := Append(nil, s), reference(nil, s); string(got) != string(want) {
			t.Fatalf("%q: %s, byte at a time %s", s, got, want)
		}
		checkAppend(t, s)
		// After a prefix of every length mod 8, which moves s's words
		// against the output's, in a buffer with and without room.
		for p := range 8 {
			for _, room := range []int{0, 64} {
				pre := append(make([]byte, 0, p+room), "01234567"[:p]...)
				// Both write into pre's room: got is copied before
				// previous runs (previous writes there before it
				// grows), in a statement of its own (a conversion is
				// not ordered with the calls of its statement).
				got := string(Append(pre, s))
				if want := previous(pre, s); got != string(want) {
					t.Fatalf("%q after %d bytes: %s, previous %s", s, p, got, want)
				}
			}
		}
	})
}

// checkAppend compares Append with the reference for s, into a buffer
// without room (the loop, after growing it) and into one with room (short
// strings take a path of their own there).
func checkAppend(t *testing.T, s string) {
	t.Helper()
	want := reference(nil, s)
	for _, b := range [][]byte{nil, make([]byte, 3, 100+len(s))} {
		got := Append(b, s)
		if string(got[len(b):]) != string(want) || string(got[:len(b)]) != string(b) {
			t.Fatalf("%q: %s, want %s", s, got[len(b):], want)
		}
	}
}

// reference is Append one byte at a time, as it was before the word at a
// time scan: the scan must find exactly the bytes this escapes.
func reference(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// Every byte value at every place of an 8-byte word, and next to others,
// escapes as the byte at a time reference does.
func TestAppendEveryByteEveryPlace(t *testing.T) {
	plain := []byte("abcdefghijklmnopqrstu")
	for c := 0; c < 256; c++ {
		for pos := range plain {
			for _, second := range []int{-1, 0, '"', 0x7f, 0x80, 0xe2} {
				s := append([]byte(nil), plain...)
				s[pos] = byte(c)
				if second >= 0 && pos+3 < len(s) {
					s[pos+3] = byte(second)
				}
				checkAppend(t, string(s))
			}
		}
	}
}

// benchStrings are the kinds of values documents carry: short fixed
// values (a third of a document's strings are under 8 bytes), ids and names
// (plain ASCII), paths and command lines (backslashes), and text outside
// ASCII.
var benchStrings = map[string]string{
	"enum":    "logs",
	"version": "8.11.0",
	"name":    "powershell.exe",
	"guid":    "{a1b2c3d4-0000-1111-2222-333344445555}",
	"message": "Process started: powershell.exe (pid 4312), parent explorer.exe, user alice on host WORKSTATION-01",
	"path":    `C:\Program Files\WindowsApps\Microsoft.WindowsTerminal_1.18.3181.0_x64__8wekyb3d8bbwe\WindowsTerminal.exe`,
	"cmdline": `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -Command "Get-Process | Where-Object {$_.CPU -gt 100}"`,
	"utf8":    "C:\\Users\\José\\Documents\\報告書\\résumé — final.docx",
}

// BenchmarkAppend runs Append and previous (the code it replaced) on each
// kind of value, side by side in one run, as the machine's load varies.
func BenchmarkAppend(b *testing.B) {
	for _, name := range []string{"enum", "version", "name", "guid", "message", "path", "cmdline", "utf8"} {
		s := benchStrings[name]
		for _, f := range []struct {
			name   string
			append func([]byte, string) []byte
		}{{"", Append}, {"/previous", previous}} {
			b.Run(name+f.name, func(b *testing.B) {
				buf := make([]byte, 0, 1024)
				b.SetBytes(int64(len(s)))
				b.ReportAllocs()
				cpu0 := cputime.Process()
				for b.Loop() {
					buf = f.append(buf[:0], s)
				}
				b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// Runs of backslashes and quotes (which now stay on the word scan) and
// every tail length (scanned as the string's last word) escape as the
// byte at a time reference does.
func TestAppendRunsAndTails(t *testing.T) {
	parts := []string{`\`, `\\`, `"`, "a", "é", "\n", " ", "\x1f", "\xff", "\u2028"}
	for n := 0; n <= 24; n++ {
		for _, p := range parts {
			for _, q := range parts {
				s := ""
				for len(s) < n {
					s += p
					if len(s) < n {
						s += "xy" + q
					}
				}
				for cut := 0; cut <= len(s); cut++ {
					in := s[cut:]
					checkAppend(t, in)
				}
			}
		}
	}
}

// Strings of every length up to past the short path's shortMax, with one
// or two bytes of every kind at every place, escape as the reference does.
func TestAppendShortEveryPlace(t *testing.T) {
	kinds := []byte{'a', '"', '\\', '\n', 0x01, 0x1f, ' ', 0x7f, 0x80, 0xc3, 0xe2, 0xff}
	for n := 1; n <= shortMax+2; n++ {
		for pos := 0; pos < n; pos++ {
			for _, c := range kinds {
				for _, d := range kinds {
					s := []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR"[:n])
					s[pos] = c
					s[n-1-pos] = d
					checkAppend(t, string(s))
				}
			}
		}
	}
}
