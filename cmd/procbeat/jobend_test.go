package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
)

// TestExportCoverageExitCodes: export coverage follows replay's exit codes:
// a file with undecodable records gives its report and exit 3, as replay
// does (it exited 0, so a script took a report of partial input for a whole
// one); a clean file exits 0.
func TestExportCoverageExitCodes(t *testing.T) {
	dirty := corpus.RequireFile(t, "omerbenamram-evtx/samples/Microsoft-Windows-HelloForBusiness%4Operational.evtx")
	_, replayed, replayCode := run(t, "replay", "--path.data", t.TempDir(), dirty)
	out, stderr, code := run(t, "export", "coverage", "--path.data", t.TempDir(), dirty)
	if replayCode != ExitInputErrors || code != replayCode || !strings.Contains(stderr, "errors: decode") ||
		!strings.Contains(stderr, "exit status 3") || out == "" {
		t.Errorf("coverage of undecodable records: exit %d (replay %d), report %d bytes\n%s\nreplay:\n%s", code, replayCode, len(out), stderr, replayed)
	}
	junk := filepath.Join(t.TempDir(), "junk.json")
	if err := os.WriteFile(junk, []byte("{\"not\": \"an event\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "export", "coverage", "--path.data", t.TempDir(), junk); code != ExitInputErrors {
		t.Errorf("coverage of a file without events: exit %d, want 3\n%s", code, stderr)
	}
	if _, stderr, code := run(t, "export", "coverage", "--path.data", t.TempDir(), "../../testdata/sample/sample.xml"); code != ExitOK {
		t.Errorf("clean coverage: exit %d\n%s", code, stderr)
	}
}

// TestFailedJobSummaryDoesNotSayNone: a job that fails before reading
// prints no summary (it printed "files: 0 ... errors: none" and then the
// error); one that fails after reading says so in the summary.
func TestFailedJobSummaryDoesNotSayNone(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nonexist")
	for _, cmd := range [][]string{{"replay"}, {"export", "coverage"}} {
		_, stderr, code := run(t, append(cmd, "--path.data", t.TempDir(), missing)...)
		if code != ExitFatal || strings.Contains(stderr, "errors: none") || strings.Contains(stderr, "files: 0") ||
			!strings.Contains(stderr, "no such file") {
			t.Errorf("%v of a missing path: exit %d\n%s", cmd, code, stderr)
		}
	}
}

func TestJobFailureNamesEveryCause(t *testing.T) {
	if err := jobFailure(nil, nil, nil); err != nil {
		t.Errorf("no failure: %v", err)
	}
	err := jobFailure(os.ErrClosed, os.ErrDeadlineExceeded, os.ErrInvalid)
	for _, want := range []string{"interrupted", os.ErrClosed.Error(), "delivery: " + os.ErrDeadlineExceeded.Error()} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("failure %v lacks %q", err, want)
		}
	}
}
