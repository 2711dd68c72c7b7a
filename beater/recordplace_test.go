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
