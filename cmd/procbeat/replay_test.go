package main

import (
	"strings"
	"testing"

	"github.com/procbeat/procbeat/fields"
)

func TestReplaySample(t *testing.T) {
	out, stderr, code := run(t, "replay", "../../testdata/sample/sample.xml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 14 {
		t.Fatalf("%d documents, want 14", len(lines))
	}
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		ds := "endpoint.events.process"
		if strings.Contains(l, `"dataset":"endpoint.events.api"`) {
			ds = "endpoint.events.api"
		}
		for _, err := range cat.Validate(ds, []byte(l)) {
			t.Errorf("document %d: %v", i+1, err)
		}
	}
	if !strings.Contains(stderr, "documents: 14 (start 8, end 4, access 2)") {
		t.Errorf("summary: %s", stderr)
	}
}

func TestReplayResumesFromCheckpoint(t *testing.T) {
	data := t.TempDir()
	args := []string{"replay", "--resume", "-E", "path.data=" + data, "../../testdata/sample/sample.xml"}
	out, stderr, code := run(t, args...)
	if code != 0 || strings.Count(out, "\n") != 14 {
		t.Fatalf("first run: exit %d, %d lines: %s", code, strings.Count(out, "\n"), stderr)
	}
	out, stderr, code = run(t, args...)
	// The file resumes at the byte after the last delivered document: only
	// the record after it (not a process event) is read again.
	if code != 0 || out != "" || !strings.Contains(stderr, "records read: 1,") || !strings.Contains(stderr, "documents: 0 ") {
		t.Fatalf("second run sent again: exit %d, %q, %s", code, out, stderr)
	}
}

func TestReplayCARCodec(t *testing.T) {
	out, _, code := run(t, "replay", "--codec", "car", "../../testdata/sample/sample.xml")
	if code != 0 || !strings.HasPrefix(out, `{"object":"process","action":"create"`) || !strings.Contains(out, `"action":"access"`) || !strings.Contains(out, `"action":"terminate"`) {
		t.Errorf("car: exit %d\n%s", code, out)
	}
}
