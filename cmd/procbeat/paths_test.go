package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigFileIsRelativeToPathConfig: -c names a file in path.config,
// whatever the working directory, and an explicit missing file is an error.
func TestConfigFileIsRelativeToPathConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "case.yml"), []byte("procbeat:\n  namespace: Not-Valid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "test", "config", "--path.config", dir, "-c", "case.yml")
	if code == 0 || !strings.Contains(stderr, "procbeat.namespace") {
		t.Fatalf("file in path.config not read: exit %d, %q", code, stderr)
	}
	_, stderr, code = run(t, "test", "config", "--path.home", dir, "-c", "case.yml")
	if code == 0 || !strings.Contains(stderr, "procbeat.namespace") {
		t.Fatalf("path.config does not default to path.home: exit %d, %q", code, stderr)
	}
	_, stderr, code = run(t, "test", "config", "--path.config", dir, "-c", "missing.yml")
	if code == 0 || !strings.Contains(stderr, filepath.Join(dir, "missing.yml")) {
		t.Fatalf("explicit missing file: exit %d, %q", code, stderr)
	}
	// The default file may be absent: defaults apply.
	out, stderr, code := run(t, "test", "config", "--path.config", t.TempDir())
	if code != 0 || !strings.Contains(out, "Config OK") {
		t.Fatalf("absent default file: exit %d, %q %q", code, out, stderr)
	}
}

// TestPathFlagsSetTheDataPath: --path.data decides where state lives (the
// keystore here), overriding the file.
func TestPathFlagsSetTheDataPath(t *testing.T) {
	data := t.TempDir()
	cfg := writeConfig(t, "path:\n  data: /nonexistent/elsewhere\n")
	out, stderr, code := run(t, "keystore", "create", "-c", cfg, "--path.data", data)
	if code != 0 || !strings.Contains(out, filepath.Join(data, "procbeat.keystore")) {
		t.Fatalf("keystore create: exit %d, %q %q", code, out, stderr)
	}
}

// TestStrictPermsRefusesWritableConfig: a configuration file others can
// write is refused unless --strict.perms=false.
func TestStrictPermsRefusesWritableConfig(t *testing.T) {
	cfg := writeConfig(t, "procbeat:\n  namespace: prod\n")
	if err := os.Chmod(cfg, 0o666); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "test", "config", "-c", cfg)
	if code == 0 || !strings.Contains(stderr, "chmod go-w") || !strings.Contains(stderr, "--strict.perms=false") {
		t.Fatalf("world-writable config accepted: exit %d, %q", code, stderr)
	}
	out, stderr, code := run(t, "test", "config", "-c", cfg, "--strict.perms=false")
	if code != 0 || !strings.Contains(out, "Config OK") {
		t.Fatalf("--strict.perms=false: exit %d, %q %q", code, out, stderr)
	}
}
