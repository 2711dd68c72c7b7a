//go:build !agent

package main

import (
	"strings"
	"testing"
)

// The default build refuses to run under Elastic Agent, saying which
// build can.
func TestManagementNeedsTheAgentBuild(t *testing.T) {
	root := newRoot()
	root.SetArgs([]string{"--path.home", t.TempDir(), "-E", "management.enabled=true", "-E", "setup.ilm.enabled=false",
		"-E", "setup.template.enabled=false", "-E", "logging.to_stderr=true"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "-tags agent") {
		t.Fatalf("got %v", err)
	}
}
