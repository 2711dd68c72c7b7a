//go:build unix

package beater

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procbeat/procbeat/module/process/source"
)

// deniedFS is the OS except for directories it says cannot be read: tests
// run as root, which reads every directory whatever its permissions.
type deniedFS struct {
	osWalkFS
	denied string
}

func (d deniedFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == d.denied {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return os.ReadDir(name)
}

// hostileTree makes a directory holding a readable export, a FIFO named
// *.xml, a subdirectory (to be denied) with an export, a dangling symbolic
// link and a link loop named as inputs.
func hostileTree(t *testing.T) (dir, fifo, sub string) {
	t.Helper()
	sample, err := os.ReadFile("../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	sub = filepath.Join(dir, "sub")
	fifo = filepath.Join(dir, "fifo.xml")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "a.xml"), filepath.Join(sub, "b.xml")} {
		if err := os.WriteFile(p, sample, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "missing.evtx"), filepath.Join(dir, "dangling.evtx")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop.json", filepath.Join(dir, "loop.json")); err != nil {
		t.Fatal(err)
	}
	return dir, fifo, sub
}

// TestWalkGoesOnPastUnreadableEntries: the FIFO is skipped with a message
// naming it; the denied directory, the dangling link and the loop are
// reported as errors; the readable file is still listed.
func TestWalkGoesOnPastUnreadableEntries(t *testing.T) {
	dir, fifo, sub := hostileTree(t)
	var errs, skips []string
	paths, err := expandPaths([]string{dir}, source.FormatUnknown, deniedFS{denied: sub},
		pathProblems{errorf: func(_ string, e error) { errs = append(errs, e.Error()) }, skipf: func(e error) { skips = append(skips, e.Error()) }})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(paths, []string{filepath.Join(dir, "a.xml")}) {
		t.Errorf("paths %v", paths)
	}
	if len(skips) != 1 || !strings.Contains(skips[0], fifo) || !strings.Contains(skips[0], "FIFO") {
		t.Errorf("skips %q", skips)
	}
	joined := strings.Join(errs, "\n")
	if len(errs) != 3 || !strings.Contains(joined, "reading directory "+sub+": permission denied") ||
		!strings.Contains(joined, "dangling.evtx: no such file") || !strings.Contains(joined, "loop.json: too many levels") {
		t.Errorf("errors %q", errs)
	}
	// A pattern's matches are entries of a walk too: the dangling link
	// and the loop it matches are reported, and the rest still listed.
	errs = nil
	paths, err = expandPaths([]string{filepath.Join(dir, "*")}, source.FormatUnknown, osWalkFS{},
		pathProblems{errorf: func(_ string, e error) { errs = append(errs, e.Error()) }, skipf: func(e error) { skips = append(skips, e.Error()) }})
	if err != nil {
		t.Fatalf("pattern: %v", err)
	}
	if !slices.Contains(paths, filepath.Join(dir, "a.xml")) || !slices.Contains(paths, filepath.Join(sub, "b.xml")) {
		t.Errorf("pattern's paths %v", paths)
	}
	joined = strings.Join(errs, "\n")
	if len(errs) != 3 || !strings.Contains(joined, "dangling.evtx: no such file") || !strings.Contains(joined, "loop.json: too many levels") {
		t.Errorf("pattern's errors %q", errs)
	}
	// Without the denial the subdirectory's export is listed too.
	paths, _ = ExpandPaths([]string{dir})
	if len(paths) != 2 {
		t.Errorf("paths %v", paths)
	}
}

// TestReplayHostileTree replays the tree: the readable export is read, the
// unreadable entries are counted as file errors, and the run ends at once
// (the FIFO is never opened). A FIFO named on the command line is refused
// as well, without blocking.
func TestReplayHostileTree(t *testing.T) {
	dir, fifo, sub := hostileTree(t)
	out := newIDOutput(-1)
	b := testBeater(t, t.TempDir(), out)
	defer b.Close()
	b.runner.walk = deniedFS{denied: sub}
	start := time.Now()
	sum, err := b.Replay(context.Background(), []string{dir, fifo})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("replay took %v", time.Since(start))
	}
	if sum.Files != 1 || sum.Documents() != 14 || sum.Errors["open"] != 4 {
		t.Errorf("summary %+v", sum)
	}
}

// TestOpenFIFONeverBlocks: opening a FIFO (no writer) through a file
// source returns at once with ErrNotRegular.
func TestOpenFIFONeverBlocks(t *testing.T) {
	_, fifo, _ := hostileTree(t)
	done := make(chan error, 1)
	go func() {
		_, err := source.NewFile(fifo, source.Options{}).Open(context.Background(), source.Position{})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, source.ErrNotRegular) || !strings.Contains(err.Error(), "FIFO") {
			t.Fatalf("open FIFO: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("opening a FIFO blocked")
	}
}
