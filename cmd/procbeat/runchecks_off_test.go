//go:build !agent

package main

import (
	"strings"
	"testing"
)

// TestTestConfigRefusesManagementInTheDefaultBuild: test config said
// Config OK for management.enabled, which run then refused.
func TestTestConfigRefusesManagementInTheDefaultBuild(t *testing.T) {
	out, stderr, code := run(t, "test", "config", "--path.data", t.TempDir(), "-E", "management.enabled=true")
	if code != 1 || strings.Contains(out, "Config OK") || !strings.Contains(stderr, "management.enabled: this procbeat was built without Elastic Agent support") {
		t.Errorf("exit %d, %q %q", code, out, stderr)
	}
}
