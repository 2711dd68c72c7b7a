//go:build mage

// Developer tasks. Run with `go run github.com/magefile/mage <target>` (or
// `mage <target>` when mage is installed).
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"
)

// Build compiles the procbeat binary into ./build/procbeat.
func Build() error {
	return sh.RunV("go", "build", "-o", "build/procbeat"+exeSuffix(), "./cmd/procbeat")
}

// Test runs every test (integration tests included when a cluster or a
// container engine is there), then the race pass (Race), then each fuzz
// target for a short fixed time.
func Test() error {
	mg.Deps(Check)
	if err := sh.RunV("go", "test", "-count=1", "-timeout", "40m", "./..."); err != nil {
		return err
	}
	// The Elastic Agent build (-tags agent): its management package and the
	// binary run as Agent runs it.
	if err := sh.RunV("go", "test", "-count=1", "-timeout", "20m", "-tags", "agent", "./management/...", "./cmd/procbeat/..."); err != nil {
		return err
	}
	if err := Race(); err != nil {
		return err
	}
	return Fuzz()
}

// Race runs the tests that need no Elasticsearch under the race detector,
// the Elastic Agent build's too: the reader's workers, the pipeline, the
// beater and the Agent client share state between goroutines. The others
// are skipped (PROCBEAT_ES_SKIP=all): Test runs them before this pass,
// which then needs no cluster.
func Race() error {
	env := map[string]string{"PROCBEAT_ES_SKIP": "all"}
	if err := sh.RunWithV(env, "go", "test", "-race", "-count=1", "-timeout", "40m", "./..."); err != nil {
		return err
	}
	return sh.RunWithV(env, "go", "test", "-race", "-count=1", "-timeout", "20m", "-tags", "agent", "./management/...", "./cmd/procbeat/...")
}

// Fuzz runs every fuzz target for FUZZTIME (default 10s) each. A target
// fails when it writes a failing input under testdata/fuzz. Go 1.26's fuzz
// coordinator can also fail a run at the -fuzztime deadline with a bare
// "context deadline exceeded" and no input (golang/go#75804, fixed in Go
// 1.27): such a run is reported as that race and not counted as a failure;
// any other failure is.
func Fuzz() error {
	fuzztime := os.Getenv("FUZZTIME")
	if fuzztime == "" {
		fuzztime = "10s"
	}
	targets, err := fuzzTargets()
	if err != nil {
		return err
	}
	for _, t := range targets {
		fmt.Printf("fuzz %s %s for %s\n", t.pkg, t.name, fuzztime)
		dir, err := sh.Output("go", "list", "-f", "{{.Dir}}", t.pkg)
		if err != nil {
			return err
		}
		inputs := filepath.Join(strings.TrimSpace(dir), "testdata", "fuzz", t.name)
		before := countFiles(inputs)
		var out strings.Builder
		cmd := exec.Command("go", "test", "-run", "^$", "-fuzz", "^"+t.name+"$", "-fuzztime", fuzztime, t.pkg)
		cmd.Stdout = io.MultiWriter(os.Stdout, &out)
		cmd.Stderr = io.MultiWriter(os.Stderr, &out)
		err = cmd.Run()
		if err == nil {
			continue
		}
		if countFiles(inputs) == before && deadlineRace(out.String()) {
			fmt.Printf("fuzz %s %s: Go's fuzz coordinator stopped with \"context deadline exceeded\" at the -fuzztime deadline and wrote no failing input (golang/go#75804); not a failure of the target\n", t.pkg, t.name)
			continue
		}
		return fmt.Errorf("fuzz %s %s: %w", t.pkg, t.name, err)
	}
	return nil
}

// deadlineRace reports whether a failed fuzz run's output is that of
// golang/go#75804: the target's only failure is the coordinator's
// "context deadline exceeded".
func deadlineRace(out string) bool {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "--- FAIL: Fuzz") {
			return i+1 < len(lines) && strings.TrimSpace(lines[i+1]) == "context deadline exceeded" &&
				(i+2 >= len(lines) || !strings.HasPrefix(lines[i+2], "    "))
		}
	}
	return false
}

// countFiles counts the files in dir (0 when it does not exist).
func countFiles(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	return len(entries)
}

type fuzzTarget struct{ pkg, name string }

// fuzzTargets lists Fuzz* functions per package (go test -list).
func fuzzTargets() ([]fuzzTarget, error) {
	pkgs, err := sh.Output("go", "list", "./...")
	if err != nil {
		return nil, err
	}
	var out []fuzzTarget
	for _, pkg := range strings.Fields(pkgs) {
		list, err := sh.Output("go", "test", "-list", "^Fuzz", pkg)
		if err != nil {
			return nil, fmt.Errorf("listing fuzz targets of %s: %w", pkg, err)
		}
		for _, line := range strings.Split(list, "\n") {
			if strings.HasPrefix(line, "Fuzz") {
				out = append(out, fuzzTarget{pkg, strings.TrimSpace(line)})
			}
		}
	}
	return out, nil
}

// Check runs gofmt and go vet, then, for Windows on amd64 and arm64, the
// build, vet and the test binaries of every package with Windows files
// (they cannot run here, but they must compile).
func Check() error {
	out, err := sh.Output("gofmt", "-l", ".")
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) != "" {
		return fmt.Errorf("gofmt would change:\n%s", out)
	}
	if err := sh.RunV("go", "vet", "./..."); err != nil {
		return err
	}
	// The Elastic Agent build (build tag agent) is vetted too.
	if err := sh.RunV("go", "vet", "-tags", "agent", "./..."); err != nil {
		return err
	}
	winPkgs, err := windowsPackages()
	if err != nil {
		return err
	}
	for _, arch := range []string{"amd64", "arm64"} {
		win := map[string]string{"GOOS": "windows", "GOARCH": arch}
		if err := sh.RunWithV(win, "go", "build", "./..."); err != nil {
			return err
		}
		if err := sh.RunWithV(win, "go", "vet", "./..."); err != nil {
			return err
		}
		if err := sh.RunWithV(win, "go", "vet", "-tags", "agent", "./..."); err != nil {
			return err
		}
		for _, pkg := range winPkgs {
			fmt.Printf("windows/%s test binary: %s\n", arch, pkg)
			if err := sh.RunWithV(win, "go", "test", "-c", "-o", os.DevNull, pkg); err != nil {
				return err
			}
		}
	}
	return nil
}

// windowsPackages lists the packages that have Windows-only files: built
// for this system, they are the files the build constraints leave out that
// are named *_windows.go or constrained to windows.
func windowsPackages() ([]string, error) {
	list, err := sh.OutputWith(map[string]string{"GOOS": "linux"}, "go", "list", "-f", "{{.ImportPath}}|{{.Dir}}|{{join .IgnoredGoFiles \",\"}}", "./...")
	if err != nil {
		return nil, err
	}
	var pkgs []string
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 || parts[2] == "" {
			continue
		}
		for _, f := range strings.Split(parts[2], ",") {
			if isWindowsFile(filepath.Join(parts[1], f)) {
				pkgs = append(pkgs, parts[0])
				break
			}
		}
	}
	return pkgs, nil
}

func isWindowsFile(path string) bool {
	base := filepath.Base(path)
	if strings.HasSuffix(base, "_windows.go") || strings.HasSuffix(base, "_windows_test.go") {
		return true
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "//go:build ") {
			return strings.Contains(line, "windows") && !strings.Contains(line, "!windows")
		}
		if strings.HasPrefix(line, "package ") {
			break
		}
	}
	return false
}

// Update regenerates every generated file: the Go document type and the
// field docs, from fields/fields.yml, and the NOTICE files of the default
// and the agent build, from the module graph.
func Update() error {
	if err := sh.RunV("go", "run", "./tools/gendocument", "-o", "fields/document/document_gen.go"); err != nil {
		return err
	}
	if err := sh.RunV("go", "test", "./fields/docs", "-run", "TestCommittedDocsAreFresh", "-update"); err != nil {
		return err
	}
	// The NOTICE files of the default and the agent build follow go.mod.
	if err := sh.RunV("go", "run", "./tools/notice"); err != nil {
		return err
	}
	return sh.RunV("go", "run", "./tools/notice", "-tags", "agent", "-o", "NOTICE-agent.txt")
}

// ESImage builds (or loads from $HOME/.cache) the local Elasticsearch test
// image for machines without an image registry.
func ESImage() error {
	cmd := exec.Command("bash", "tools/esimage/build.sh")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

func exeSuffix() string {
	if os.Getenv("GOOS") == "windows" {
		return ".exe"
	}
	return ""
}
