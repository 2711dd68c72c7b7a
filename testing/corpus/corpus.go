// Package corpus locates the shared third-party event corpus for tests and
// reads its MANIFEST.tsv. The corpus lives next to the repository
// (../shared/corpus from the directory holding go.mod) and is absent on a
// fresh clone: a test that needs it takes it from Require or RequireFile,
// which skip the test there and fail it under CI=true. CI runs beside the
// corpus, and a corpus test that skipped in CI would pass having checked
// nothing.
package corpus

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true, as .ci/run sets
// it), where every corpus test must run.
func InCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// Skip skips tb for want of corpus input (why), or fails it under CI.
func Skip(tb testing.TB, why string) {
	tb.Helper()
	if InCI() {
		tb.Fatalf("%s (CI=true: corpus tests must run, not skip)", why)
		return
	}
	tb.Skip(why)
}

// Require returns the corpus directory, or skips tb (fails it under CI)
// when the corpus is absent.
func Require(tb testing.TB) string {
	tb.Helper()
	dir, ok := Dir()
	if !ok {
		Skip(tb, "../shared/corpus is absent")
	}
	return dir
}

// RequireFile returns the path of the corpus file rel (slash-separated,
// relative to the corpus), or skips tb (fails it under CI) when the corpus
// or the file is absent.
func RequireFile(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(Require(tb), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		Skip(tb, fmt.Sprintf("corpus file %s: %v", rel, err))
	}
	return p
}

// Dir returns the corpus directory and whether it exists.
func Dir() (string, bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			c := filepath.Join(dir, "..", "shared", "corpus")
			if st, err := os.Stat(c); err == nil && st.IsDir() {
				return c, true
			}
			return c, false
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
	}
}

// Counts are the manifest's expected numbers of process records.
type Counts struct {
	SysmonEID1, SysmonEID5, SysmonEID10, Sec4688, Sec4689 int
}

// Entry is one manifest row.
type Entry struct {
	Counts
	RecordsTotal int // all records, any provider
}

// Manifest maps a corpus-relative path to its row.
func Manifest(dir string) (map[string]Entry, error) {
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var col map[string]int
	out := make(map[string]Entry)
	line := 0
	for sc.Scan() {
		line++
		parts := strings.Split(sc.Text(), "\t")
		if col == nil {
			col = make(map[string]int, len(parts))
			for i, p := range parts {
				col[p] = i
			}
			for _, need := range []string{"path", "sysmon_eid1", "sysmon_eid5", "sysmon_eid10", "sec_4688", "sec_4689", "records_total"} {
				if _, ok := col[need]; !ok {
					return nil, fmt.Errorf("MANIFEST.tsv: no column %q", need)
				}
			}
			continue
		}
		get := func(name string) (int, error) {
			i := col[name]
			if i >= len(parts) {
				return 0, fmt.Errorf("MANIFEST.tsv line %d: no %s", line, name)
			}
			n, err := strconv.Atoi(parts[i])
			if err != nil {
				return 0, fmt.Errorf("MANIFEST.tsv line %d: %s: %w", line, name, err)
			}
			return n, nil
		}
		var c Entry
		for _, p := range []struct {
			name string
			dst  *int
		}{{"sysmon_eid1", &c.SysmonEID1}, {"sysmon_eid5", &c.SysmonEID5}, {"sysmon_eid10", &c.SysmonEID10}, {"sec_4688", &c.Sec4688}, {"sec_4689", &c.Sec4689}, {"records_total", &c.RecordsTotal}} {
			n, err := get(p.name)
			if err != nil {
				return nil, err
			}
			*p.dst = n
		}
		out[parts[col["path"]]] = c
	}
	return out, sc.Err()
}
