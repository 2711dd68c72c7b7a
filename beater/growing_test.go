package beater

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/testing/corpus"
)

// TestEVTXCopiedInPieces: procbeat run reads an EVTX file still being
// copied into a watched folder (its header declares chunks the file does
// not hold yet) without an error, then the rest once it is there: every
// document once. A replay of the same part reports it truncated.
func TestEVTXCopiedInPieces(t *testing.T) {
	data, err := os.ReadFile(corpus.RequireFile(t, "omerbenamram-evtx/samples/sysmon.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	// The header a clean close leaves: chunks 0-8, next record id 359.
	le := binary.LittleEndian
	le.PutUint64(data[16:], 8)
	le.PutUint64(data[24:], 359)
	le.PutUint16(data[42:], 9)
	le.PutUint32(data[120:], 0)
	le.PutUint32(data[124:], crc32.ChecksumIEEE(data[:120]))

	dir := t.TempDir()
	path := filepath.Join(dir, "Sysmon.evtx")
	out := &indexOutput{}
	b := testBeater(t, t.TempDir(), out)
	seen := map[string]fileState{}
	// Three chunks and part of a fourth, then everything.
	for _, size := range []int{0x1000 + 3*0x10000 + 5000, len(data)} {
		if err := os.WriteFile(path, data[:size], 0o600); err != nil {
			t.Fatal(err)
		}
		if failed := b.scan(context.Background(), []string{dir}, source.FormatUnknown, nil, seen, map[string]bool{}, b.scanProblems()); len(failed) > 0 {
			t.Fatalf("%d bytes: %v", size, failed)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	sum := b.runner.Summary()
	if n := len(out.bodies); n != 287 || sum.InputErrors() {
		t.Errorf("copied in two scans: %d documents, want 287; summary %+v", n, sum)
	}

	// Replayed, the part is truncated.
	if err := os.WriteFile(path, data[:0x1000+3*0x10000], 0o600); err != nil {
		t.Fatal(err)
	}
	b = testBeater(t, t.TempDir(), &indexOutput{})
	defer b.Close()
	sum, err = b.Replay(context.Background(), []string{path})
	fe := sum.Failed[path]
	if err == nil || sum.Errors[ErrorRead] != 1 || !strings.HasPrefix(fe.Problem, "truncated data: the file header declares 9 chunks and next record id 359, the file holds 3 chunks") {
		t.Errorf("replay of a part: %v, %+v", err, sum)
	}
}
