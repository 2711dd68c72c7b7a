package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestConsoleOptionsAreRead: output.console.pretty indents each document,
// and output.console.enabled: false with no other output is refused (both
// used to be accepted and ignored).
func TestConsoleOptionsAreRead(t *testing.T) {
	out, stderr, code := run(t, "replay", "-E", "output.console.pretty=true", "../../testdata/sample/sample.xml")
	if code != 0 {
		t.Fatalf("pretty: exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(out, "{\n  \"@timestamp\": ") {
		t.Errorf("pretty: not indented: %.200s", out)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	n := 0
	for dec.More() {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("pretty: document %d: %v", n+1, err)
		}
		n++
	}
	if n != 14 {
		t.Errorf("pretty: %d documents, want 14", n)
	}
	out, stderr, code = run(t, "replay", "-E", "output.console.enabled=false", "../../testdata/sample/sample.xml")
	if code != ExitFatal || out != "" || !strings.Contains(stderr, "output.console.enabled") {
		t.Errorf("console disabled: exit %d, %d bytes out: %s", code, len(out), stderr)
	}
	_, stderr, code = run(t, "test", "config", "-E", "output.console.enabled=false")
	if code == 0 || !strings.Contains(stderr, "output.console.enabled") {
		t.Errorf("test config: exit %d: %s", code, stderr)
	}
}

// TestFileRotationDiscardingOutputWarns: a replay larger than
// number_of_files x rotate_every_kb says that rotation deleted what it
// wrote, in the log and the summary (it used to do so silently).
func TestFileRotationDiscardingOutputWarns(t *testing.T) {
	dir := t.TempDir()
	_, stderr, log, code := runLogged(t, "replay", "-e", "-E", "path.data="+t.TempDir(),
		"-E", "output.file.path="+dir, "-E", "output.file.rotate_every_kb=4", "-E", "output.file.number_of_files=2",
		"../../testdata/sample/sample.xml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(log, "output.file: rotation deleted "+dir) || !strings.Contains(stderr, "warning: output files deleted by rotation: ") {
		t.Errorf("no warning:\nlog: %s\nsummary: %s", log, stderr)
	}
	// Enough files kept: no warning.
	_, stderr, log, code = runLogged(t, "replay", "-e", "-E", "path.data="+t.TempDir(),
		"-E", "output.file.path="+t.TempDir(), "-E", "output.file.rotate_every_kb=4", "-E", "output.file.number_of_files=100",
		"../../testdata/sample/sample.xml")
	if code != 0 || strings.Contains(log, "rotation deleted") || strings.Contains(stderr, "deleted by rotation") {
		t.Errorf("exit %d, warning without loss:\nlog: %s\nsummary: %s", code, log, stderr)
	}
}
