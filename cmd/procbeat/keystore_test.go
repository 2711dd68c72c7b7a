package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runIn is run with standard input.
func runIn(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.Execute()
	var ex exitError
	switch {
	case err == nil:
	case errors.As(err, &ex):
		code = ex.code
	default:
		errb.WriteString(err.Error())
		code = 1
	}
	return out.String(), errb.String(), code
}

// TestKeystoreResolvesConfigReferences creates a keystore, adds a secret,
// and checks that ${KEY} in procbeat.yml resolves from it, ahead of the
// environment, and that list shows keys but never values.
func TestKeystoreResolvesConfigReferences(t *testing.T) {
	data := t.TempDir()
	cfg := writeConfig(t, "procbeat:\n  namespace: ${PB_TEST_NS}\npath:\n  data: "+data+"\n")
	store := filepath.Join(data, "procbeat.keystore")

	// Before the keystore exists, an unset reference is an error naming
	// the key and the variable.
	_, stderr, code := run(t, "test", "config", "-c", cfg)
	if code == 0 || !strings.Contains(stderr, "procbeat.namespace: ${PB_TEST_NS}: not set in the environment") {
		t.Fatalf("unresolved reference: exit %d, %q", code, stderr)
	}
	if _, stderr, code := run(t, "keystore", "add", "PB_TEST_NS", "--stdin", "-c", cfg); code == 0 || !strings.Contains(stderr, "keystore create") {
		t.Fatalf("add before create: exit %d, %q", code, stderr)
	}
	if out, stderr, code := run(t, "keystore", "create", "-c", cfg); code != 0 || !strings.Contains(out, store) {
		t.Fatalf("create: exit %d, %q %q", code, out, stderr)
	}
	if _, stderr, code := run(t, "keystore", "create", "-c", cfg); code == 0 || !strings.Contains(stderr, "--force") {
		t.Fatalf("second create: exit %d, %q", code, stderr)
	}
	if _, stderr, code := runIn(t, "case_42\n", "keystore", "add", "PB_TEST_NS", "--stdin", "-c", cfg); code != 0 {
		t.Fatalf("add: exit %d, %q", code, stderr)
	}
	if _, stderr, code := runIn(t, "other\n", "keystore", "add", "PB_TEST_NS", "--stdin", "-c", cfg); code == 0 || !strings.Contains(stderr, "exists already") {
		t.Fatalf("add again without --force: exit %d, %q", code, stderr)
	}
	out, _, code := run(t, "keystore", "list", "-c", cfg)
	if code != 0 || out != "PB_TEST_NS\n" {
		t.Fatalf("list: exit %d, %q", code, out)
	}
	raw, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("case_42")) {
		t.Fatal("the keystore file holds the secret in clear text")
	}

	// The keystore wins over the environment.
	t.Setenv("PB_TEST_NS", "Not-Valid")
	if out, stderr, code := run(t, "test", "config", "-c", cfg); code != 0 || !strings.Contains(out, "Config OK") {
		t.Fatalf("resolved from the keystore: exit %d, %q %q", code, out, stderr)
	}
	// A bad value from the keystore is validated like any other.
	if _, stderr, code := runIn(t, "Bad-Value", "keystore", "add", "PB_TEST_NS", "--stdin", "--force", "-c", cfg); code != 0 {
		t.Fatalf("add --force: exit %d, %q", code, stderr)
	}
	if _, stderr, code := run(t, "test", "config", "-c", cfg); code == 0 || !strings.Contains(stderr, "procbeat.namespace") {
		t.Fatalf("invalid value from the keystore: exit %d, %q", code, stderr)
	}
	// Removed, the reference falls back to the environment.
	if _, stderr, code := run(t, "keystore", "remove", "PB_TEST_NS", "-c", cfg); code != 0 {
		t.Fatalf("remove: exit %d, %q", code, stderr)
	}
	if _, stderr, code := run(t, "test", "config", "-c", cfg); code == 0 || !strings.Contains(stderr, "procbeat.namespace") {
		t.Fatalf("after remove, the environment's invalid value: exit %d, %q", code, stderr)
	}
	if _, stderr, code := run(t, "keystore", "remove", "PB_TEST_NS", "-c", cfg); code == 0 || !strings.Contains(stderr, "not in the keystore") {
		t.Fatalf("remove a missing key: exit %d, %q", code, stderr)
	}
}

// TestStrictPermsRefusesOpenKeystore: with --strict.perms (the default) a
// keystore others can read is refused, as in Beats.
func TestStrictPermsRefusesOpenKeystore(t *testing.T) {
	data := t.TempDir()
	cfg := writeConfig(t, "path:\n  data: "+data+"\n")
	if _, stderr, code := run(t, "keystore", "create", "-c", cfg); code != 0 {
		t.Fatalf("create: exit %d, %q", code, stderr)
	}
	if err := os.Chmod(filepath.Join(data, "procbeat.keystore"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "test", "config", "-c", cfg); code == 0 || !strings.Contains(stderr, "procbeat.keystore") {
		t.Fatalf("readable keystore accepted: exit %d, %q", code, stderr)
	}
	if out, stderr, code := run(t, "test", "config", "-c", cfg, "--strict.perms=false"); code != 0 || !strings.Contains(out, "Config OK") {
		t.Fatalf("--strict.perms=false: exit %d, %q %q", code, out, stderr)
	}
}

// TestKeystoreAddStdinIsCapped: --stdin reads at most maxSecretBytes (a
// whole disk image piped by mistake was read into memory and stored);
// past it the add fails, the keystore unchanged, and a value at the cap
// is stored.
func TestKeystoreAddStdinIsCapped(t *testing.T) {
	cfg := writeConfig(t, "path:\n  data: "+t.TempDir()+"\n")
	if _, stderr, code := run(t, "keystore", "create", "-c", cfg); code != 0 {
		t.Fatalf("create: exit %d, %q", code, stderr)
	}
	big := strings.Repeat("a", maxSecretBytes+1)
	if _, stderr, code := runIn(t, big, "keystore", "add", "BIG", "--stdin", "-c", cfg); code == 0 || !strings.Contains(stderr, "more than 64 KiB") {
		t.Fatalf("oversized value: exit %d, %.200q", code, stderr)
	}
	if out, _, _ := run(t, "keystore", "list", "-c", cfg); out != "" {
		t.Fatalf("an oversized value was stored: %q", out)
	}
	if _, stderr, code := runIn(t, big[1:]+"\n", "keystore", "add", "MAX", "--stdin", "-c", cfg); code != 0 {
		t.Fatalf("value at the cap: exit %d, %.200q", code, stderr)
	}
}
