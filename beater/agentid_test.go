package beater

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/monitoring"
)

func TestAgentIDEmptyMetaRecovered(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "meta.json")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	id, err := agentID(dir, monitoring.NopLogger{})
	if err != nil || len(id) != 36 {
		t.Fatalf("empty meta.json: %q %v", id, err)
	}
	again, err := agentID(dir, monitoring.NopLogger{})
	if err != nil || again != id {
		t.Fatalf("second read %q %v, want %q", again, err, id)
	}
	if err := os.WriteFile(path, []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := agentID(dir, monitoring.NopLogger{}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt meta.json: %v, want an error naming it", err)
	}
}

// A file-header error names the file once.
func TestHeaderErrorNamesFileOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.evtx")
	if err := os.WriteFile(path, []byte("ElfFile\x00short"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := source.Opener{EVTX: EVTXOpener(context.Background(), 0)}
	f, err := o.Open(path)
	if err == nil {
		f.Close()
	}
	if err == nil || strings.Count(err.Error(), path) != 1 {
		t.Errorf("error %q: want %s named once", err, path)
	}
}
