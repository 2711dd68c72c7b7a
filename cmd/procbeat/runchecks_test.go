package main

import (
	"runtime"
	"strings"
	"testing"
)

// TestSettingsWithoutEffect: settings replay accepted and ignored are
// refused or warned about; test config refuses what run refuses beyond the
// values, and names procbeat.inputs when run would have nothing to read.
func TestSettingsWithoutEffect(t *testing.T) {
	const sample = "../../testdata/sample/sample.xml"
	data := "--path.data=" + t.TempDir()
	if _, stderr, code := run(t, "replay", data, "--max-unreachable=-1s", sample); code != 1 || !strings.Contains(stderr, "--max-unreachable -1s: must be positive, or 0") {
		t.Errorf("negative --max-unreachable: exit %d, %s", code, stderr)
	}
	for _, args := range [][]string{{"replay", data, "-E", "management.enabled=true", sample}, {"export", "coverage", data, "-E", "management.enabled=true", sample}} {
		if out, stderr, code := run(t, args...); code != 1 || out != "" || !strings.Contains(stderr, "management.enabled: Elastic Agent manages procbeat run only") {
			t.Errorf("%v: exit %d, %d bytes out, %s", args[:2], code, len(out), stderr)
		}
	}
	out, stderr, code := run(t, "replay", data, "-E", "logging.to_stderr=false", "-E", "logging.to_files=true", sample)
	if code != 0 || strings.Count(out, "\n") != 14 || !strings.Contains(stderr, "logging.to_stderr is not used here: replay and export coverage log to stderr") ||
		!strings.Contains(stderr, "logging.to_files is not used here") {
		t.Errorf("replay with logging.to_*: exit %d\n%s", code, stderr)
	}
	if _, stderr, _ := run(t, "replay", data, sample); strings.Contains(stderr, "is not used here") {
		t.Errorf("warned without the settings: %s", stderr)
	}

	// test config: no inputs is fine for replay, and what run says of it
	// is shown.
	out, stderr, code = run(t, "test", "config", data)
	if code != 0 || !strings.Contains(out, "Config OK for replay and export coverage; procbeat run would refuse it: procbeat.inputs: no input is enabled") {
		t.Errorf("no inputs: exit %d, %q %q", code, out, stderr)
	}
	if _, stderr, code := run(t, "run", data, "-e", "-E", "logging.metrics.enabled=false"); code != 1 || !strings.Contains(stderr, "procbeat.inputs: no input is enabled") {
		t.Errorf("run without inputs: exit %d, %s", code, stderr)
	}
	in := "procbeat.inputs=[{type: xml, paths: [" + sample + "]}]"
	if out, stderr, code := run(t, "test", "config", data, "-E", in); code != 0 || out != "Config OK\n" {
		t.Errorf("with an input: exit %d, %q %q", code, out, stderr)
	}
	live := "procbeat.inputs=[{type: wineventlog, channels: [Security]}]"
	out, stderr, code = run(t, "test", "config", data, "-E", live)
	if runtime.GOOS == "windows" {
		if code != 0 {
			t.Errorf("wineventlog on Windows: exit %d, %s", code, stderr)
		}
	} else if code != 1 || !strings.Contains(stderr, "procbeat.inputs.0.type: wineventlog inputs read live Windows event log channels and run only on Windows") {
		t.Errorf("wineventlog off Windows: exit %d, %q %q", code, out, stderr)
	}
}
