package filetimes

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const body = `0|C:/Windows/System32/cmd.exe|1234-128-1|r/rrwxrwxrwx|0|0|289792|1700000100|1600000200|1600000300|1500000000
0|C:/Windows/System32/cmd.exe ($FILE_NAME)|1234-48-2|r/rrwxrwxrwx|0|0|289792|1500000000|1550000000.5|1500000000|1500000000
0|/Users/bob/x.exe|77-128-1|r/rrwxrwxrwx|0|0|10|1|2|3|1650000000
not a body line
0|c:\Users\bob\bad.exe|77-128-1|r/rrwxrwxrwx|0|0|10|1|nan|3|4
`

func TestRead(t *testing.T) {
	ix, err := Read(strings.NewReader(body), 10)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 2 || ix.Skipped != 2 {
		t.Fatalf("%d files, %d skipped", ix.Len(), ix.Skipped)
	}
	got, ok := ix.Lookup(`c:\WINDOWS\system32\CMD.EXE`)
	if !ok || !got.Created.Equal(time.Unix(1500000000, 0)) || !got.NameModified.Equal(time.Unix(1550000000, 5e8)) {
		t.Errorf("cmd.exe: %+v %v", got, ok)
	}
	if got, ok := ix.Lookup(`C:\Users\bob\x.exe`); !ok || !got.Created.Equal(time.Unix(1650000000, 0)) || !got.NameModified.IsZero() {
		t.Errorf("x.exe: %+v %v", got, ok)
	}
	if _, err := Read(strings.NewReader(body), 1); !errors.Is(err, ErrTooMany) {
		t.Errorf("bound: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add(body)
	f.Fuzz(func(t *testing.T, s string) {
		ix, _ := Read(strings.NewReader(s), 100)
		if ix.Len() > 100 {
			t.Fatal("bound exceeded")
		}
	})
}

// TestKeyLikeReference: Key, built byte by byte for ASCII, is the plain
// definition.
func TestKeyLikeReference(t *testing.T) {
	ref := func(p string) string {
		if len(p) >= 2 && p[1] == ':' {
			p = p[2:]
		}
		return strings.TrimLeft(strings.ToUpper(strings.ReplaceAll(p, "/", `\`)), `\`)
	}
	for _, p := range []string{"", "c", "c:", `C:\`, `c:\Windows\System32\cmd.exe`, "C:/Users/bob/x.exe",
		`/\/a\b`, "//x", `\\server\share\ä.exe`, "c:/Grüße/ſ.EXE", "x:y", "\xff/a"} {
		if got, want := Key(p), ref(p); got != want {
			t.Errorf("Key(%q) = %q, want %q", p, got, want)
		}
	}
}
