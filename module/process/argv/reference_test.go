package argv

import (
	"reflect"
	"testing"
)

// appendSplitReference is AppendSplitAlloc as it was before it skipped
// runs of ordinary bytes at once (issue 17): the fast one must split every
// line alike.
func appendSplitReference(dst []string, cmdline string, alloc func(n int) []byte) []string {
	s := cmdline
	if len(s) == 0 {
		return dst
	}
	if cap(dst)-len(dst) < 4 {
		dst = growFor(dst, s)
	}
	i := 0
	// argv[0].
	if s[0] == '"' {
		j := 1
		for j < len(s) && s[j] != '"' {
			j++
		}
		dst = append(dst, s[1:j])
		i = j
		if i < len(s) {
			i++ // closing quote
		}
	} else {
		j := 0
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		dst = append(dst, s[:j])
		i = j
	}

	// Processed arguments are written to buf, which is sized so that it
	// never grows: an argument is never longer than its source text.
	var buf []byte
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return dst
		}
		start := i
		plain := true // no quote or escape seen yet: the arg is s[start:i]
		inQuote := false
		bufStart := 0
		for i < len(s) {
			c := s[i]
			if !inQuote && (c == ' ' || c == '\t') {
				break
			}
			if c != '\\' && c != '"' {
				if !plain {
					buf = append(buf, c)
				}
				i++
				continue
			}
			// Count backslashes.
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i >= len(s) || s[i] != '"' {
				// Literal backslashes.
				if !plain {
					for k := 0; k < n; k++ {
						buf = append(buf, '\\')
					}
				}
				continue
			}
			// n backslashes followed by a quote: from here on the text
			// differs from the source.
			if plain {
				plain = false
				if buf == nil {
					if alloc != nil {
						buf = alloc(len(s))[:0:len(s)]
					} else {
						buf = make([]byte, 0, len(s))
					}
				}
				bufStart = len(buf)
				buf = append(buf, s[start:i-n]...)
			}
			for k := 0; k < n/2; k++ {
				buf = append(buf, '\\')
			}
			if n%2 == 1 {
				buf = append(buf, '"')
				i++
				continue
			}
			if inQuote && i+1 < len(s) && s[i+1] == '"' {
				buf = append(buf, '"')
				i += 2
				continue
			}
			inQuote = !inQuote
			i++
		}
		if plain {
			dst = append(dst, s[start:i])
		} else {
			dst = append(dst, bytesString(buf[bufStart:]))
		}
	}
}

func FuzzSplitIsReference(f *testing.F) {
	for _, s := range []string{`a "b c" d`, `"x\" y`, `\\"a"" b`, ` ""`, `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`,
		`"C:\Program Files\App\app.exe" /c "echo \"hi\" & exit" --path="C:\a b\\" x`, "a\tb\t\"c\td\"", `"unclosed`, `x\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendSplitAlloc(nil, s, nil)
		want := appendSplitReference(nil, s, nil)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("AppendSplitAlloc(%q) = %q, want %q", s, got, want)
		}
	})
}
