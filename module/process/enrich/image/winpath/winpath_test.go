package winpath

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func mk(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, img *Image, p string) (string, error) {
	t.Helper()
	f, err := img.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return string(b), err
}

func TestImageResolvesCaseInsensitively(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "C")
	mk(t, filepath.Join(root, "Windows", "system32", "cmd.exe"), "cmd")
	mk(t, filepath.Join(base, "D", "tools", "x.exe"), "x")
	mk(t, filepath.Join(base, "outside.exe"), "secret")
	if err := os.Symlink(filepath.Join(base, "outside.exe"), filepath.Join(root, "link.exe")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("Windows", filepath.Join(root, "win")); err != nil {
		t.Fatal(err)
	}
	img, err := NewImage(root, map[string]string{"d:": "../D"})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	for _, p := range []string{`C:\Windows\System32\cmd.exe`, `c:\WINDOWS\SYSTEM32\CMD.EXE`, `\\?\C:\Windows\System32\cmd.exe`, `\??\C:\windows\system32\cmd.exe`, `C:/Windows/System32/cmd.exe`, `C:\win\system32\cmd.exe`} {
		if got, err := read(t, img, p); err != nil || got != "cmd" {
			t.Errorf("%s: %q %v", p, got, err)
		}
	}
	if got, err := read(t, img, `D:\Tools\X.EXE`); err != nil || got != "x" {
		t.Errorf("drive D: %q %v", got, err)
	}
	for p, want := range map[string]error{
		`C:\Windows\..\..\outside.exe`: ErrEscapes,
		`C:\link.exe`:                  ErrEscapes,
		`E:\x.exe`:                     ErrNoDrive,
		`cmd.exe`:                      ErrNotAbsolute,
		`\\server\share\x.exe`:         ErrNotAbsolute,
		`C:\`:                          ErrNotAbsolute,
		`C:\Windows\nothing.exe`:       fs.ErrNotExist,
	} {
		if _, err := read(t, img, p); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", p, err, want)
		}
	}
	fsys, err := img.Dir(`C:\WINDOWS\System32`)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := fs.ReadFile(fsys, "cmd.exe"); err != nil || string(b) != "cmd" {
		t.Errorf("Dir: %q %v", b, err)
	}
}

func TestNewImageRejectsBadDrive(t *testing.T) {
	if _, err := NewImage(t.TempDir(), map[string]string{"DD": "x"}); err == nil {
		t.Error("accepted drive DD")
	}
	if _, err := NewImage(filepath.Join(t.TempDir(), "absent"), nil); err == nil {
		t.Error("accepted a missing root")
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{`C:\Windows\System32\cmd.exe`, `\\?\C:\a`, `C:\..\x`, `\??\d:/x/y`, ``, `C:`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, parts, err := Split(s)
		if err != nil {
			return
		}
		for _, p := range parts {
			if p == "" || p == "." || p == ".." {
				t.Fatalf("%q: component %q", s, p)
			}
		}
	})
}
