package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/procbeat/procbeat/testing/estest"
)

// procbeatBin is the procbeat built for this test run; TestMain sets it before
// any test runs and nothing changes it afterwards.
var procbeatBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "procbeat-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	procbeatBin = filepath.Join(dir, "procbeat")
	build := exec.Command("go", "build", "-o", procbeatBin, "github.com/procbeat/procbeat/cmd/procbeat")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building procbeat:", err)
		return 1
	}
	return estest.Main(m)
}
