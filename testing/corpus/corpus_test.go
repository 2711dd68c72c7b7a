package corpus

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that records a failure or a skip instead of
// ending the test; the methods it does not override are never called.
type recorder struct {
	testing.TB
	failed, skipped string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}
func (r *recorder) Skip(args ...any) { r.skipped = fmt.Sprint(args...) }

// TestSkipFailsUnderCI: a corpus test that lacks its input skips on a
// developer's machine and fails under CI, whatever spelling of true CI has.
func TestSkipFailsUnderCI(t *testing.T) {
	for _, tc := range []struct {
		ci   string
		fail bool
	}{{"true", true}, {"1", true}, {"TRUE", true}, {"", false}, {"false", false}, {"yes", false}} {
		t.Setenv("CI", tc.ci)
		r := &recorder{}
		Skip(r, "no corpus here")
		if failed := r.failed != ""; failed != tc.fail || (r.skipped != "") == tc.fail {
			t.Errorf("CI=%q: failed %q, skipped %q; want a failure: %v", tc.ci, r.failed, r.skipped, tc.fail)
		}
	}
}

// TestRequireFileMissing: a file the corpus does not hold is a skip (a
// failure under CI) naming the file, whether or not the corpus is here.
func TestRequireFileMissing(t *testing.T) {
	for _, ci := range []string{"true", "false"} {
		t.Setenv("CI", ci)
		r := &recorder{}
		RequireFile(r, "no/such/file.evtx")
		msg := r.skipped
		if ci == "true" {
			msg = r.failed
		}
		if msg == "" || (r.failed != "") != (ci == "true") {
			t.Fatalf("CI=%s: failed %q, skipped %q", ci, r.failed, r.skipped)
		}
		if _, ok := Dir(); ok && !strings.Contains(msg, "no/such/file.evtx") {
			t.Errorf("CI=%s: %q does not name the file", ci, msg)
		}
	}
}
