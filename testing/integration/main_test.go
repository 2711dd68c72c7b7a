// Package integration proves procbeat's setup and output commands against a
// real Elasticsearch (issue 3): the binary is built once and driven as a
// user would drive it.
package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/procbeat/procbeat/testing/estest"
)

// binary is the procbeat built for this test run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "procbeat-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "procbeat")
	build := exec.Command("go", "build", "-o", binary, "github.com/procbeat/procbeat/cmd/procbeat")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building procbeat:", err)
		os.Exit(1)
	}
	code := estest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// procbeat runs the binary against the cluster with extra arguments.
func procbeat(t *testing.T, c *estest.Cluster, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	full := append([]string{}, args...)
	full = append(full, "-c", emptyConfig(t), "-E", "output.elasticsearch.hosts=[\""+c.URL+"\"]", "-E", "path.data="+t.TempDir())
	if c.Username != "" {
		full = append(full, "-E", "output.elasticsearch.username="+c.Username, "-E", "output.elasticsearch.password="+c.Password)
	}
	return run(t, full...)
}

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// emptyConfig is a procbeat.yml that sets nothing, so a developer's own
// procbeat.yml never leaks into a test.
func emptyConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "procbeat.yml")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
