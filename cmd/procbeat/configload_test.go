package main

import (
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
