package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeZip(t *testing.T, path string, members map[string][]byte) {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for name, data := range members {
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeTarGz(t *testing.T, path, name string, data []byte) {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), Typeflag: tar.TypeReg})
	tw.Write(data)
	tw.Close()
	gz.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runLogged is run, with the log lines (ECS JSON, which replay writes to
// the command's standard error beside the summary) returned apart.
func runLogged(t *testing.T, args ...string) (stdout, stderr, log string, code int) {
	t.Helper()
	stdout, stderr, code = run(t, args...)
	var b strings.Builder
	for _, line := range strings.SplitAfter(stderr, "\n") {
		if strings.HasPrefix(line, "{") {
			b.WriteString(line)
		}
	}
	return stdout, stderr, b.String(), code
}

// TestReplayArchives replays a directory holding a .zip and a .tar.gz of
// the sample, streamed: every document of both, and a bad record inside
// the zip is reported with the archive and member path.
func TestReplayArchives(t *testing.T) {
	sample, err := os.ReadFile("../../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "collection.zip")
	writeZip(t, zipPath, map[string][]byte{
		"Logs/Sysmon.xml": sample,
		"Logs/bad.xml":    []byte("<Event><System><EventID>x</EventID></System></Event>\n"),
		"notes.txt":       []byte("skipped"),
	})
	writeTarGz(t, filepath.Join(dir, "collection.tar.gz"), "Logs/Sysmon.xml", sample)
	out, stderr, log, code := runLogged(t, "replay", dir)
	if n := strings.Count(out, "\n"); n != 28 {
		t.Fatalf("%d documents, want 28 (exit %d): %s", n, code, stderr)
	}
	if !strings.Contains(log, zipPath+":Logs/bad.xml:1: record 1: field System/EventID") || !strings.Contains(stderr, "documents: 28 ") {
		t.Errorf("stderr: %s\nlog: %s", stderr, log)
	}
	if _, err := os.Stat(filepath.Join(dir, "Logs")); err == nil {
		t.Error("an archive was extracted to disk")
	}
}

// TestReplayArchiveBomb: a .gz expanding beyond the configured limit is
// refused with a clear error and a non-zero exit; the other inputs are read.
func TestReplayArchiveBomb(t *testing.T) {
	sample, err := os.ReadFile("../../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	gz.Write(sample)
	gz.Write(make([]byte, 16<<20))
	gz.Close()
	bomb := filepath.Join(dir, "Sysmon.xml.gz")
	if err := os.WriteFile(bomb, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plain.xml"), sample, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, log, code := runLogged(t, "replay", "-E", "procbeat.archives.max_uncompressed_bytes=1048576", dir)
	if code == 0 || !strings.Contains(log, bomb+": refused as an archive bomb: it expands to more than 1048576 bytes") ||
		strings.Count(log, "archive bomb") != 1 {
		t.Fatalf("exit %d: %s\nlog: %s", code, stderr, log)
	}
	if n := strings.Count(out, "\n"); n < 14 {
		t.Errorf("the plain file was not read: %d documents", n)
	}
	// Under the default limits the same archive is read.
	out, stderr, code = run(t, "replay", bomb)
	if code != 0 || strings.Count(out, "\n") != 14 {
		t.Errorf("default limits: exit %d, %s", code, stderr)
	}
}
