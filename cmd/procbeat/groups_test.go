package main

import (
	"strings"
	"testing"
)

// TestGroupsRefuseUnknownSubcommands: a misspelled or missing subcommand
// under a group fails (exit 1) naming the word and the valid commands, as
// `procbeat bogus` does; before, the group printed its help and exited 0,
// so `procbeat test confg || exit 1` passed in CI.
func TestGroupsRefuseUnknownSubcommands(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"test", "confg"}, []string{`unknown command "confg" for "procbeat test"`, `did you mean "config"`, "config, output"}},
		{[]string{"export", "tmplate"}, []string{`unknown command "tmplate"`, "template"}},
		{[]string{"keystore", "lst"}, []string{`unknown command "lst"`, "add, create, list, remove"}},
		{[]string{"kql", "translat", "x"}, []string{`unknown command "translat"`, "lint, translate"}},
		{[]string{"evtx", "dmp"}, []string{`unknown command "dmp"`, "dump"}},
		{[]string{"service", "bogus"}, []string{`unknown command "bogus" for "procbeat service"`, "install"}},
		{[]string{"service"}, []string{"procbeat service needs a command", "install, start, status, stop, uninstall"}},
		{[]string{"test"}, []string{"procbeat test needs a command", "config, output"}},
	} {
		_, stderr, code := run(t, tc.args...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1 (stderr %q)", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
	}
	// Help stays help.
	if out, _, code := run(t, "test", "--help"); code != 0 || !strings.Contains(out, "Available Commands") {
		t.Errorf("test --help: exit %d, %q", code, out)
	}
}
