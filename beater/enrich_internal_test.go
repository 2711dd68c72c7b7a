package beater

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/monitoring"
)

func TestNewImagesFromConfig(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "roots.pem")
	body := filepath.Join(dir, "c.body")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o644)
	os.WriteFile(body, []byte("0|C:/Tools/x.exe|1-128-1|r/rrwxrwxrwx|0|0|1|0|1600000000|0|1500000000"), 0o644)

	cfg := config.DefaultEnrich()
	cfg.Enabled = false
	if im, err := newImages(cfg, monitoring.NopLogger{}); im != nil || err != nil || im.mapping() != nil {
		t.Fatalf("disabled: %v %v", im, err)
	}

	cfg = config.DefaultEnrich()
	cfg.TrustedRoots = []string{notPEM}
	if _, err := newImages(cfg, monitoring.NopLogger{}); err == nil || !strings.Contains(err.Error(), "enrich.trusted_roots") {
		t.Errorf("bad PEM: %v", err)
	}

	cfg = config.DefaultEnrich()
	cfg.ImageRoot = filepath.Join(dir, "absent")
	if _, err := newImages(cfg, monitoring.NopLogger{}); err == nil || !strings.Contains(err.Error(), "enrich.image_root") {
		t.Errorf("missing root: %v", err)
	}

	// A timeline alone (no image root, not on Windows) fills file times.
	if runtime.GOOS == "windows" {
		t.Skip("the live file system is used on Windows")
	}
	cfg = config.DefaultEnrich()
	cfg.Timelines = []string{body}
	im, err := newImages(cfg, monitoring.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	defer im.close()
	p := document.Process{Executable: `C:\Tools\x.exe`}
	im.mapping().FillProcess("h", time.Unix(1500000010, 0), &p)
	if p.Ext.RelativeFileCreationTime != document.DoubleOf(10) || p.Hash.SHA256 != "" {
		t.Errorf("%+v", p)
	}
}
