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
