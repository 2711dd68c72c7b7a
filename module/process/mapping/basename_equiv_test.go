package mapping

import (
	"strings"
	"testing"
)

// FuzzBaseNameIsReference: baseName is the last element of a path as it
// was before it scanned for the separators by hand (issue 17):
// strings.LastIndexAny, for any bytes, UTF-8 or not.
func FuzzBaseNameIsReference(f *testing.F) {
	for _, s := range []string{"", `\`, "/", `C:\Windows\System32\cmd.exe`, "/usr/bin/sh", `a\b/c`, "plain.exe", `C:\Users\é\x.exe`, "\xff\\\xfe", `trailing\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		want := p
		if i := strings.LastIndexAny(p, `\/`); i >= 0 {
			want = p[i+1:]
		}
		if got := baseName(p); got != want {
			t.Fatalf("baseName(%q) = %q, want %q", p, got, want)
		}
	})
}
