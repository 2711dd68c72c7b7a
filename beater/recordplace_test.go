package beater

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/config"
)

// A record the mapping refuses is named where it lies: in an export by its
// line and index (exports may carry no EventRecordID), with the
// EventRecordID when there is one.
func TestMappingErrorNamesLineAndIndex(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "testdata", "sample", "sample.xml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(sample), "\n")
	// The sample's second event (line 2) is a Sysmon 1 of pid 4312.
	lines[1] = strings.Replace(lines[1], `<Data Name="ProcessId">4312</Data>`, `<Data Name="ProcessId">43x2</Data>`, 1)
	noID := strings.Replace(lines[1], `<EventRecordID>501</EventRecordID>`, ``, 1)
	dir := t.TempDir()
	withID := filepath.Join(dir, "with-id.xml")
	withoutID := filepath.Join(dir, "without-id.xml")
	if err := os.WriteFile(withID, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	lines[1] = noID
	if err := os.WriteFile(withoutID, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		withID:    withID + ":2: record 2 (event 1, EventRecordID 501): field ProcessId: ",
		withoutID: withoutID + ":2: record 2 (event 1): field ProcessId: ",
	} {
		log := &recordLogger{}
		b, err := NewWithOutput(context.Background(), config.Default(), log, &bodyOutput{}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := b.Replay(context.Background(), []string{path})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Errors["mapping"] != 1 {
			t.Errorf("%s: errors %v, want the one record's mapping error", path, sum.Errors)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(log.lines, "\n"); !strings.Contains(got, "WARN "+want) {
			t.Errorf("log:\n%s\nwant a warning starting %q", got, want)
		}
	}
}

// A malformed hash is reported where it lies and left out; its document
// is published with the rest of the event, and the summary counts the
// value (exit 3), not a mapping error.
func TestMalformedHashIsLeftOut(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "testdata", "sample", "sample.xml"))
	if err != nil {
		t.Fatal(err)
	}
	const md5 = "MD5=911D039E71583A07320B32BDE22F8E22"
	if !strings.Contains(string(sample), md5) {
		t.Fatalf("sample.xml no longer holds %s", md5)
	}
	path := filepath.Join(t.TempDir(), "bad-hash.xml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(sample), md5, "MD5=zz", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &recordLogger{}
	out := &bodyOutput{}
	b, err := NewWithOutput(context.Background(), config.Default(), log, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := b.Replay(context.Background(), []string{path})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if sum.Errors[ErrorValue] != 1 || sum.Errors[ErrorMapping] != 0 || !sum.InputErrors() || sum.Documents() != 14 {
		t.Errorf("errors %v, documents %d: want 14 documents and one value left out", sum.Errors, sum.Documents())
	}
	var kept int
	for _, body := range out.bodies {
		if strings.Contains(body, `"message":"Process started: C:\\Windows\\System32\\cmd.exe (pid 4312)`) {
			kept++
			if strings.Contains(body, `"md5"`) || !strings.Contains(body, `"sha256":"b99d114b267ffd068c3289199b6df95a9f9e64872d6c2b666d63974bbce75bf2"`) {
				t.Errorf("want the sound hashes without the malformed MD5: %s", body)
			}
		}
	}
	if kept == 0 {
		t.Errorf("no start document of pid 4312 among %d published", len(out.bodies))
	}
	want := path + ":2: record 2 (event 1, EventRecordID 501): field Hashes: "
	if got := strings.Join(log.lines, "\n"); !strings.Contains(got, "WARN "+want) || !strings.Contains(got, `MD5 "zz" is not 32 hex digits (left out of its document)`) {
		t.Errorf("log:\n%s\nwant a warning starting %q", got, want)
	}
}
