package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPrintErrorOneLinePerProblem: an error of several lines is printed
// line by line, not as one line with a literal \n, and each line is still
// cleaned of control characters and passwords.
func TestPrintErrorOneLinePerProblem(t *testing.T) {
	var b bytes.Buffer
	printError(&b, errors.Join(
		errors.New("config: decoding failed due to the following error(s):\n\n'procbeat' has invalid keys: nosuch"),
		errors.New("procbeat.inputs.2.paths: needs at least one path\x1b[31m"),
		errors.New("output.elasticsearch.hosts.0: http://u:secret@es:9200 \r refused"),
	))
	want := "Error: config: decoding failed due to the following error(s):\n" +
		"  'procbeat' has invalid keys: nosuch\n" +
		"  procbeat.inputs.2.paths: needs at least one path\\x1b[31m\n" +
		"  output.elasticsearch.hosts.0: http://u:xxxxx@es:9200 \\r refused\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestMainPrintsErrorLines: procbeat itself prints a configuration error of
// several lines on several lines.
func TestMainPrintsErrorLines(t *testing.T) {
	cmd := exec.Command(os.Args[0], "replay", "--path.data", t.TempDir(), "-E", "procbeat.nosuch=1", "../../testdata/sample/sample.xml")
	cmd.Env = append(os.Environ(), "PROCBEAT_TEST_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ex *exec.ExitError
	if !errors.As(err, &ex) || ex.ExitCode() != 1 {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), `\n`) || !strings.Contains(stderr.String(), "\n  'procbeat' has invalid keys: nosuch\n") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}
