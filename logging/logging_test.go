package logging_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/logging"
)

func TestJSONFalseWritesText(t *testing.T) {
	cfg := config.Default().Logging
	cfg.JSON = false
	var buf bytes.Buffer
	log, closeLog, err := logging.New(cfg, config.Path{}, logging.Options{ToStderr: true, Stderr: &buf})
	if err != nil {
		t.Fatal(err)
	}
	defer closeLog()
	log.Infof("hello %d", 1)
	line := buf.String()
	if strings.HasPrefix(line, "{") || !strings.Contains(line, "hello 1") || !strings.Contains(line, "INFO") {
		t.Errorf("logging.json: false wrote %q", line)
	}
}

func TestFilesPathRelativeToHome(t *testing.T) {
	home := t.TempDir()
	cfg := config.Default().Logging
	cfg.Files.Path = "mylogs"
	log, closeLog, err := logging.New(cfg, config.Path{Home: home, Logs: filepath.Join(home, "logs")}, logging.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log.Named(logging.SelectorPublisher).Debugf("hidden at info")
	log.Infof("shown")
	closeLog()
	files, _ := filepath.Glob(filepath.Join(home, "mylogs", "procbeat*"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	raw, _ := os.ReadFile(files[0])
	var m map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(raw), &m); err != nil || m["message"] != "shown" {
		t.Fatalf("want one JSON line saying shown, got %q (%v)", raw, err)
	}
}

// logging.files.permissions (logp's FileConfig) reaches the log file.
func TestFilesPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are ACLs on Windows")
	}
	dir := t.TempDir()
	cfg := config.Default().Logging
	cfg.Files.Path, cfg.Files.Permissions = dir, 0o640
	log, closeLog, err := logging.New(cfg, config.Path{}, logging.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log.Infof("written")
	closeLog()
	files, _ := filepath.Glob(filepath.Join(dir, "procbeat*"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	if st, err := os.Stat(files[0]); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("log file mode %v (%v), want 0640", st.Mode().Perm(), err)
	}
}

// TestUnknownSelectorsWarn: a -d or logging.selectors name that is no
// component's selects nothing, so it is warned about, with the valid
// names; known ones and "*" are not.
func TestUnknownSelectorsWarn(t *testing.T) {
	for _, tc := range []struct {
		debug, selectors []string
		warn             string
	}{
		{[]string{"nosuch,publisher"}, nil, "debug selectors nosuch ("},
		{nil, []string{"registar"}, "debug selectors registar ("},
		{[]string{"*", "elasticsearch"}, []string{"input"}, ""},
	} {
		cfg := config.Default().Logging
		cfg.Selectors = tc.selectors
		var buf bytes.Buffer
		_, closeLog, err := logging.New(cfg, config.Path{}, logging.Options{ToStderr: true, Stderr: &buf, Debug: tc.debug})
		if err != nil {
			t.Fatal(err)
		}
		closeLog()
		got := buf.String()
		if tc.warn == "" {
			if strings.Contains(got, "select nothing") {
				t.Errorf("%v %v: %s", tc.debug, tc.selectors, got)
			}
			continue
		}
		if !strings.Contains(got, tc.warn) || !strings.Contains(got, logging.SelectorList) {
			t.Errorf("%v %v: want a warning naming %s and listing %s, got %s", tc.debug, tc.selectors, tc.warn, logging.SelectorList, got)
		}
	}
}
