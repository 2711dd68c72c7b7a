package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNumericSecretFromKeystore: a keystore value of digits fills a string
// setting, as in Beats, and export config shows the setting masked.
func TestNumericSecretFromKeystore(t *testing.T) {
	data := t.TempDir()
	cfg := writeConfig(t, "path.data: "+data+"\noutput.elasticsearch:\n  hosts: [\"http://127.0.0.1:1\"]\n  username: \"${PB_NUM_USER}\"\n  password: \"${PB_NUM_PW}\"\n")
	if _, stderr, code := run(t, "keystore", "create", "-c", cfg); code != 0 {
		t.Fatalf("create: exit %d, %q", code, stderr)
	}
	for key, value := range map[string]string{"PB_NUM_USER": "123", "PB_NUM_PW": "true"} {
		if _, stderr, code := runIn(t, value, "keystore", "add", key, "--stdin", "-c", cfg); code != 0 {
			t.Fatalf("add %s: exit %d, %q", key, code, stderr)
		}
	}
	out, stderr, code := run(t, "export", "config", "-c", cfg)
	if code != 0 || !strings.Contains(out, "username: \"123\"") {
		t.Fatalf("export config: exit %d, %q %q", code, out, stderr)
	}
}

// TestDisabledElasticsearchIsNamed: with `enabled: false` in a file,
// commands that need the cluster name that setting and the file, and a
// replay given hosts warns that they have no effect (its documents still
// go to stdout, as configured).
func TestDisabledElasticsearchIsNamed(t *testing.T) {
	cfg := writeConfig(t, "output.elasticsearch:\n  enabled: false\n")
	hosts := []string{"-c", cfg, "-E", `output.elasticsearch.hosts=["http://127.0.0.1:1"]`, "-E", "output.elasticsearch.api_key=id:key"}
	for _, sub := range [][]string{{"setup"}, {"query", "process.name: x"}} {
		_, stderr, code := run(t, append(sub, hosts...)...)
		if code == 0 || !strings.Contains(stderr, "output.elasticsearch.enabled: false is set in "+cfg) ||
			!strings.Contains(stderr, "output.elasticsearch.hosts") || !strings.Contains(stderr, "have no effect") {
			t.Errorf("%s: exit %d, %q", sub[0], code, stderr)
		}
	}
	out, stderr, code := run(t, append([]string{"replay", "../../testdata/sample/sample.xml"}, hosts...)...)
	if code != 0 || strings.Count(out, "\n") != 14 || !strings.Contains(stderr, "output.elasticsearch.enabled: false is set in "+cfg) {
		t.Errorf("replay: exit %d, %d lines, %q", code, strings.Count(out, "\n"), stderr)
	}
	// test config accepts it (the values are valid) and says so too.
	_, stderr, code = run(t, append([]string{"test", "config"}, hosts...)...)
	if code != 0 || !strings.Contains(stderr, "Warning: output.elasticsearch.enabled: false is set in "+cfg) || !strings.Contains(stderr, "have no effect") {
		t.Errorf("test config: exit %d, %q", code, stderr)
	}
	// Disabled with nothing else set, replay has nothing to warn about.
	_, stderr, _ = run(t, "replay", "-c", cfg, "../../testdata/sample/sample.xml")
	if strings.Contains(stderr, "output.elasticsearch.enabled") {
		t.Errorf("replay warned without elasticsearch settings: %q", stderr)
	}
}

// TestRepeatedConfigFilesMerge: -c may be repeated, the files merged in
// order (a later file's value of a key wins), as in Beats.
func TestRepeatedConfigFilesMerge(t *testing.T) {
	first := writeConfig(t, "procbeat.namespace: first\ntags: [a]\nsetup.template.priority: 300\n")
	second := writeConfig(t, "procbeat.namespace: second\n")
	out, stderr, code := run(t, "export", "config", "-c", first, "-c", second)
	if code != 0 || !strings.Contains(out, "namespace: second") || !strings.Contains(out, "priority: 300") {
		t.Fatalf("exit %d: %q %q", code, out, stderr)
	}
	// Each file is checked: an unknown key in the first is reported.
	bad := writeConfig(t, "nosuch: 1\n")
	if _, stderr, code := run(t, "test", "config", "-c", bad, "-c", second); code == 0 || !strings.Contains(stderr, "nosuch") {
		t.Fatalf("first file not read: exit %d, %q", code, stderr)
	}
}

// TestRelativeHomeAppliedOnce: a relative --path.home is made absolute
// once, from the working directory: its procbeat.yml is read and its data
// and logs are directly under it. -E path.home= and -E path.config= move
// the configuration file as --path.home and --path.config do.
func TestRelativeHomeAppliedOnce(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	home := filepath.Join(wd, "h")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "procbeat.yml"), []byte("procbeat.namespace: from_h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flags    []string
		homeDirs bool // path.home is h: config, data and logs are h's
	}{
		{[]string{"--path.home", "h"}, true},
		{[]string{"-E", "path.home=h"}, true},
		{[]string{"--path.config", home}, false},
		{[]string{"-E", "path.config=" + home}, false},
	} {
		out, stderr, code := run(t, append([]string{"export", "config"}, tc.flags...)...)
		if code != 0 || !strings.Contains(out, "namespace: from_h") {
			t.Errorf("%q: h/procbeat.yml not read: exit %d, %q", tc.flags, code, stderr)
		}
		if !tc.homeDirs {
			continue
		}
		for _, want := range []string{"home: " + home + "\n", "config: " + home + "\n", "data: " + filepath.Join(home, "data") + "\n", "logs: " + filepath.Join(home, "logs") + "\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q: want %q in\n%s", tc.flags, want, out)
			}
		}
	}
	out, stderr, code := run(t, "keystore", "create", "--path.home", "h")
	if code != 0 || !strings.Contains(out, filepath.Join(home, "data", "procbeat.keystore")) {
		t.Errorf("keystore create: exit %d, %q %q", code, out, stderr)
	}
}

// TestPathConfigInAFileIsRefused: path.config in a file would move nothing
// (the files are found before they are read): it is refused, and export
// config shows where the files were looked for.
func TestPathConfigInAFileIsRefused(t *testing.T) {
	cfg := writeConfig(t, "path.config: /elsewhere\n")
	if _, stderr, code := run(t, "test", "config", "-c", cfg); code == 0 || !strings.Contains(stderr, cfg+": path.config") {
		t.Fatalf("exit %d, %q", code, stderr)
	}
	dir := t.TempDir()
	out, stderr, code := run(t, "export", "config", "--path.config", dir, "-c", writeConfig(t, "path.home: /srv/pb\n"))
	if code != 0 || !strings.Contains(out, "config: "+dir+"\n") || !strings.Contains(out, "data: /srv/pb/data\n") {
		t.Fatalf("exit %d, %q %q", code, out, stderr)
	}
}
