package source_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/procbeat/procbeat/module/process/source"
)

func identity(t *testing.T, path string) source.Identity {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := source.IdentityOf(path, st)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestIdentityOf: a rename and a write keep a file's identity, another
// file has another, a hard link is the same file; the string the registry
// keeps tells them apart.
func TestIdentityOf(t *testing.T) {
	dir := t.TempDir()
	a, b, renamed, link := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "renamed"), filepath.Join(dir, "link")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte(p), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	first := identity(t, a)
	if first.IsZero() {
		if runtime.GOOS == "linux" || runtime.GOOS == "windows" {
			t.Fatalf("no identity on %s", runtime.GOOS)
		}
		t.Skipf("no native identity on %s", runtime.GOOS)
	}
	if other := identity(t, b); other == first || other.String() == first.String() {
		t.Errorf("two files, one identity %v", first)
	}
	if err := os.Rename(a, renamed); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(renamed, []byte("grown"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := identity(t, renamed); got != first {
		t.Errorf("renamed and written to: %v, was %v", got, first)
	}
	if err := os.Link(renamed, link); err != nil {
		t.Fatal(err)
	}
	if got := identity(t, link); got != first {
		t.Errorf("hard link: %v, want %v", got, first)
	}
	if p, ok := source.PathOf(source.ID(renamed)); !ok || p != renamed {
		t.Errorf("PathOf(ID(%s)) = %q, %v", renamed, p, ok)
	}
}
