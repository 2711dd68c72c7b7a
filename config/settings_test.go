package config_test

import (
	"strings"
	"testing"
)

// TestSettingsWithoutEffectRefused: settings that were accepted and then
// ignored (enrich.drives and enrich.hosts without enrich.image_root) or
// outside what their consumer takes are refused naming the key; the drive
// letters are checked even without an image root.
func TestSettingsWithoutEffectRefused(t *testing.T) {
	for _, tc := range []struct{ yml, want string }{
		{"enrich.drives: {D: /mnt/d}\n", "enrich.drives: maps drive letters into enrich.image_root, which is not set"},
		{"enrich.drives: {DD: x}\n", `enrich.drives: "DD" is not a drive letter`},
		{"enrich.hosts: [wks-042]\n", "enrich.hosts: names the hosts enrich.image_root belongs to"},
		{"logging.files.keepfiles: 0\n", "logging.files.keepfiles: must be 2-1024, got 0"},
		{"logging.files.keepfiles: 1\n", "logging.files.keepfiles: must be 2-1024, got 1"},
		{"setup.template.number_of_shards: -1\n", "setup.template.number_of_shards: must be at least 1, or 0 for the cluster's default, got -1"},
		{"setup.template.number_of_replicas: -1\n", "setup.template.number_of_replicas: must not be negative"},
	} {
		if _, err := load(t, tc.yml); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.yml, err, tc.want)
		}
	}
	for _, ok := range []string{"logging.files.keepfiles: 2\n", "setup.template.number_of_shards: 0\n", "setup.template.number_of_replicas: 0\n",
		"enrich.image_root: " + t.TempDir() + "\nenrich.drives: {D: d}\nenrich.hosts: [wks-042]\n"} {
		if _, err := load(t, ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}
