//go:build mage

package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/magefile/mage/sh"

	"github.com/procbeat/procbeat/version"
)

// packagePlatforms are the platforms `mage package` builds by default;
// PLATFORMS (space or comma separated GOOS/GOARCH) narrows them.
var packagePlatforms = []string{"linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}

// packageFiles go into every archive beside the binary.
var packageFiles = []string{"procbeat.yml", "procbeat.reference.yml", "README.md", "LICENSE"}

// packageVariant is one build of procbeat that gets archives of its own.
type packageVariant struct {
	prefix string // archive name prefix
	tags   string // go build -tags
	notice string // the NOTICE file of this build, shipped as NOTICE.txt
	files  []string
}

// packageVariants: the default build (Apache-2.0 throughout), and the agent
// build, which Elastic Agent runs from its components directory with the
// spec file beside it, and which links the Elastic-licensed
// elastic-agent-client (its NOTICE says so at the top).
var packageVariants = []packageVariant{
	{prefix: "procbeat", notice: "NOTICE.txt"},
	{prefix: "procbeat-agent", tags: "agent", notice: "NOTICE-agent.txt", files: []string{"procbeat.spec.yml"}},
}

// Package builds the release archives into build/distributions: a zip for
// Windows and a tar.gz for Linux, amd64 and arm64, of the default build
// (procbeat-<version>-<os>-<arch>) and of the agent build
// (procbeat-agent-<version>-<os>-<arch>, with procbeat.spec.yml), each
// holding the binary (version, commit and build date stamped in), the
// configuration files, README, LICENSE and the build's NOTICE.txt, with a
// .sha512 file beside each archive as Elastic publishes them.
func Package() error {
	platforms := packagePlatforms
	if p := strings.TrimSpace(os.Getenv("PLATFORMS")); p != "" {
		platforms = strings.FieldsFunc(p, func(r rune) bool { return r == ',' || r == ' ' })
	}
	commit, err := gitCommit()
	if err != nil {
		return err
	}
	built, err := buildDate()
	if err != nil {
		return err
	}
	ldflags := fmt.Sprintf("-s -w -X github.com/procbeat/procbeat/version.Commit=%s -X github.com/procbeat/procbeat/version.BuildDate=%s", commit, built)
	dist := filepath.Join("build", "distributions")
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return err
	}
	for _, p := range platforms {
		goos, goarch, ok := strings.Cut(p, "/")
		if !ok || (goos != "linux" && goos != "windows") || (goarch != "amd64" && goarch != "arm64") {
			return fmt.Errorf("PLATFORMS: %q is not one of %s", p, strings.Join(packagePlatforms, ", "))
		}
		for _, v := range packageVariants {
			if err := packageOne(v, goos, goarch, ldflags, dist); err != nil {
				return err
			}
		}
	}
	return nil
}

// packageOne builds and archives one variant for one platform.
func packageOne(v packageVariant, goos, goarch, ldflags, dist string) error {
	name := fmt.Sprintf("%s-%s-%s-%s", v.prefix, version.Version, goos, archName(goarch))
	stage := filepath.Join("build", "package", name)
	if err := os.RemoveAll(stage); err != nil {
		return err
	}
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return err
	}
	bin := "procbeat"
	if goos == "windows" {
		bin += ".exe"
	}
	env := map[string]string{"GOOS": goos, "GOARCH": goarch, "CGO_ENABLED": "0"}
	args := []string{"build", "-trimpath", "-ldflags", ldflags, "-o", filepath.Join(stage, bin)}
	if v.tags != "" {
		args = append(args, "-tags", v.tags)
	}
	if err := sh.RunWithV(env, "go", append(args, "./cmd/procbeat")...); err != nil {
		return fmt.Errorf("building %s: %w", name, err)
	}
	for _, f := range append(slices.Clone(packageFiles), v.files...) {
		if err := sh.Copy(filepath.Join(stage, f), f); err != nil {
			return fmt.Errorf("packaging %s: %w", f, err)
		}
	}
	if err := sh.Copy(filepath.Join(stage, "NOTICE.txt"), v.notice); err != nil {
		return fmt.Errorf("packaging %s: %w", v.notice, err)
	}
	archive := filepath.Join(dist, name+".tar.gz")
	write := writeTarGz
	if goos == "windows" {
		archive = filepath.Join(dist, name+".zip")
		write = writeZip
	}
	if err := write(archive, stage, name); err != nil {
		return fmt.Errorf("writing %s: %w", archive, err)
	}
	if err := writeSHA512(archive); err != nil {
		return err
	}
	fmt.Println("package:", archive)
	return nil
}

// archName is the architecture as Elastic names it in archive names.
func archName(goarch string) string {
	if goarch == "amd64" {
		return "x86_64"
	}
	return goarch
}

func gitCommit() (string, error) {
	if c := os.Getenv("COMMIT"); c != "" {
		return c, nil
	}
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "", fmt.Errorf("git rev-parse HEAD (set COMMIT outside a git checkout): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// buildDate honours SOURCE_DATE_EPOCH, so that two builds of one commit can
// be made identical.
func buildDate() (string, error) {
	t := time.Now()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
		}
		t = time.Unix(n, 0)
	}
	return t.UTC().Format(time.RFC3339), nil
}

// stagedFiles lists the files of a staged package, sorted, relative to it.
func stagedFiles(stage string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(stage, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(stage, path)
		files = append(files, rel)
		return err
	})
	return files, err
}

// eachStaged calls add for every file of a staged package, in a stable
// order, with its name inside the archive (under top).
func eachStaged(stage, top string, add func(name, src string, st os.FileInfo) error) error {
	files, err := stagedFiles(stage)
	if err != nil {
		return err
	}
	for _, rel := range files {
		src := filepath.Join(stage, rel)
		st, err := os.Stat(src)
		if err != nil {
			return err
		}
		if err := add(top+"/"+filepath.ToSlash(rel), src, st); err != nil {
			return err
		}
	}
	return nil
}

func writeTarGz(archive, stage, top string) error {
	f, err := os.Create(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	err = eachStaged(stage, top, func(name, src string, st os.FileInfo) error {
		hdr := &tar.Header{Name: name, Mode: int64(st.Mode().Perm()), Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		return copyFile(tw, src)
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return f.Close()
}

func writeZip(archive, stage, top string) error {
	f, err := os.Create(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	err = eachStaged(stage, top, func(name, src string, st os.FileInfo) error {
		hdr, err := zip.FileInfoHeader(st)
		if err != nil {
			return err
		}
		hdr.Name = name
		hdr.Method = zip.Deflate
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		return copyFile(w, src)
	})
	if err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func copyFile(w io.Writer, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = io.Copy(w, in)
	return err
}

// writeSHA512 writes archive.sha512 in sha512sum's format, as Elastic
// publishes beside its downloads.
func writeSHA512(archive string) error {
	in, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer in.Close()
	h := sha512.New()
	if _, err := io.Copy(h, in); err != nil {
		return err
	}
	line := hex.EncodeToString(h.Sum(nil)) + "  " + filepath.Base(archive) + "\n"
	return os.WriteFile(archive+".sha512", []byte(line), 0o644)
}
