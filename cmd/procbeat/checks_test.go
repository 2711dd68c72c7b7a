package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/procbeat/procbeat/config"
)

// TestTestConfigRefusesWhatReplayRefuses: every setting a replay refuses
// before reading anything, `test config` refuses too, with the same
// message, and that message starts with a key a user can set (one of
// procbeat.reference.yml). The hosts are never contacted: the settings are
// refused before any connection.
func TestTestConfigRefusesWhatReplayRefuses(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "roots.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	image := t.TempDir()
	const es = "output.elasticsearch.hosts: [\"127.0.0.1:1\"]\n"
	const file = "output.file.path: PATH\n"
	for _, tc := range []struct {
		name, body, want string
	}{
		{"protocol ftp", es + "output.elasticsearch.protocol: ftp\n", `output.elasticsearch.protocol: "ftp" is not http or https`},
		{"password without username", es + "output.elasticsearch.password: secret\n", "output.elasticsearch.username: required when password is set"},
		{"unparsable host", "output.elasticsearch.hosts: [\"http://[::1\"]\n", `output.elasticsearch.hosts.0: "http://[::1": parse`},
		{"bad port", "output.elasticsearch.hosts: [\"127.0.0.1:1\", \"es:99999\"]\n", `output.elasticsearch.hosts.1: "es:99999": bad port`},
		{"no hosts", "output.elasticsearch.hosts: []\n", "output.elasticsearch.hosts: at least one host is required"},
		{"api key without id", es + "output.elasticsearch.api_key: nocolon\n", `output.elasticsearch.api_key: want "id:key"`},
		{"api key and username", es + "output.elasticsearch.api_key: id:key\noutput.elasticsearch.username: u\n", "output.elasticsearch.api_key: cannot be combined"},
		{"timeout", es + "output.elasticsearch.timeout: 0s\n", "output.elasticsearch.timeout: 0s is not positive"},
		{"compression level", es + "output.elasticsearch.compression_level: 10\n", "output.elasticsearch.compression_level: 10 is outside 0..9"},
		{"verification mode", es + "output.elasticsearch.ssl.verification_mode: sometimes\n", "output.elasticsearch.ssl.verification_mode:"},
		{"fingerprint", es + "output.elasticsearch.ssl.ca_trusted_fingerprint: zz\n", "output.elasticsearch.ssl.ca_trusted_fingerprint: not hex"},
		{"CA file missing", es + "output.elasticsearch.ssl.certificate_authorities: [/nonexistent/ca.pem]\n", "output.elasticsearch.ssl.certificate_authorities"},
		{"bulk_max_size", es + "output.elasticsearch.bulk_max_size: 0\n", "output.elasticsearch.bulk_max_size: 0: must be positive"},
		{"bulk_max_bytes", es + "output.elasticsearch.bulk_max_bytes: -1\n", "output.elasticsearch.bulk_max_bytes: -1: must be positive"},
		{"worker", es + "output.elasticsearch.worker: 0\n", "output.elasticsearch.worker: 0: must be positive"},
		{"flush_interval", es + "output.elasticsearch.flush_interval: 0s\n", "output.elasticsearch.flush_interval: 0s: must be positive"},
		{"backoff", es + "output.elasticsearch.backoff.init: 10s\noutput.elasticsearch.backoff.max: 1s\n", "output.elasticsearch.backoff.max: 1s: must be at least backoff.init"},
		{"max_bytes_in_flight", es + "output.elasticsearch.max_bytes_in_flight: 1000\n", "output.elasticsearch.max_bytes_in_flight: must be at least 1 MiB"},
		{"dead_letter_max_bytes", es + "output.elasticsearch.dead_letter_max_bytes: -1\n", "output.elasticsearch.dead_letter_max_bytes: -1: must be 0"},
		{"file number_of_files", file + "output.file.number_of_files: 1\n", "output.file.number_of_files: must be 2-1024, got 1"},
		{"file permissions", file + "output.file.permissions: 0\n", "output.file.permissions: 0: want file permission bits"},
		{"file rotate_every_kb", file + "output.file.rotate_every_kb: 0\n", "output.file.rotate_every_kb: must be positive"},
		{"file batch_size", file + "output.file.batch_size: 0\n", "output.file.batch_size: must be at least 1"},
		{"file codec", file + "output.file.codec: xml\n", `output.file.codec: "xml" is not one of json, car`},
		{"console batch_size", "output.console.batch_size: 0\n", "output.console.batch_size: must be at least 1"},
		{"console flush_interval", "output.console.flush_interval: 0s\n", "output.console.flush_interval: must be positive"},
		{"trusted roots not PEM", "enrich.trusted_roots: [" + notPEM + "]\n", "enrich.trusted_roots: " + notPEM + ": no PEM certificate"},
		{"image drive letter", "enrich.image_root: " + image + "\nenrich.drives: {DD: x}\n", `enrich.image_root: enrich.drives: "DD" is not a drive letter`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeConfig(t, strings.ReplaceAll(tc.body, "PATH", t.TempDir()))
			data := "--path.data=" + t.TempDir()
			out, checked, code := run(t, "test", "config", "-c", cfg, data)
			if code == 0 || !strings.Contains(checked, tc.want) {
				t.Fatalf("test config: exit %d, stdout %q, stderr %q; want non-zero and %q", code, out, checked, tc.want)
			}
			out, replayed, code := run(t, "replay", "-c", cfg, data, "../../testdata/sample/sample.xml")
			if code == 0 || !strings.Contains(replayed, tc.want) {
				t.Fatalf("replay: exit %d, stderr %q; want non-zero and %q", code, replayed, tc.want)
			}
			if out != "" {
				t.Errorf("replay wrote documents:\n%.300s", out)
			}
			for _, line := range strings.Split(strings.TrimSpace(checked), "\n") {
				if !strings.Contains(replayed, line) {
					t.Errorf("test config says %q, replay does not:\n%s", line, replayed)
				}
				assertSettableKey(t, line)
			}
		})
	}
}

// index matches the list indexes of a key path: hosts.1, hosts[1].
var index = regexp.MustCompile(`(\.[0-9]+|\[[0-9]+\])`)

// assertSettableKey checks that line starts with "key: ", key being a
// setting of procbeat.reference.yml (list indexes aside).
func assertSettableKey(t *testing.T, line string) {
	t.Helper()
	key, _, ok := strings.Cut(line, ": ")
	if !ok {
		t.Errorf("%q names no key", line)
		return
	}
	if !referenceKeys(t)[index.ReplaceAllString(key, "")] {
		t.Errorf("%q names %s, which is not a setting of procbeat.reference.yml", line, key)
	}
}

// referenceKeys are the dotted paths of every setting (and section) of
// procbeat.reference.yml; items of lists of mappings count as the list.
func referenceKeys(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile("../../procbeat.reference.yml")
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				key := k
				if prefix != "" {
					key = prefix + "." + k
				}
				keys[key] = true
				walk(key, sub)
			}
		case []any:
			for _, item := range x {
				walk(prefix, item)
			}
		}
	}
	walk("", tree)
	return keys
}

// The reference file names every key the checks above name; a key missing
// from it would make assertSettableKey pass for nothing.
func TestReferenceKeysIncludeNestedSettings(t *testing.T) {
	keys := referenceKeys(t)
	for _, k := range []string{"output.elasticsearch.ssl.certificate_authorities", "output.elasticsearch.backoff.max", "output.file.number_of_files", "enrich.trusted_roots"} {
		if !keys[k] {
			t.Errorf("%s not found in procbeat.reference.yml", k)
		}
	}
	if keys["output.elasticsearch.bulk_max_sizes"] {
		t.Error("a key that does not exist was found")
	}
}

// Every check of every section, triggered at once by zero values, names a
// key a user can set.
func TestValidationNamesSettableKeys(t *testing.T) {
	cfg := config.Config{Output: config.Output{
		Elasticsearch: &config.Elasticsearch{Enabled: true},
		File:          &config.File{Enabled: true},
		Console:       &config.Console{Enabled: true},
	}}
	cfg.Output.Elasticsearch.Password = "p"
	cfg.Output.Elasticsearch.SSL.CertificateAuthorities = []string{" "}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("zero values accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) < 25 {
		t.Errorf("only %d errors from zero values:\n%v", len(lines), err)
	}
	for _, line := range lines {
		assertSettableKey(t, line)
	}
}

// export config prints what procbeat made of settings it refuses, then
// the reasons test config gives, and exits 1.
func TestExportConfigShowsRefusedSettings(t *testing.T) {
	cfg := writeConfig(t, "output.elasticsearch.hosts: [\"127.0.0.1:1\"]\noutput.elasticsearch.protocol: ftp\n")
	out, stderr, code := run(t, "export", "config", "-c", cfg)
	_, checked, _ := run(t, "test", "config", "-c", cfg)
	if code != 1 || !strings.Contains(out, "protocol: ftp") || !strings.Contains(out, "bulk_max_size: 1600") || stderr != checked || checked == "" {
		t.Errorf("exit %d, stderr %q (test config: %q), stdout:\n%s", code, stderr, checked, out)
	}
}
