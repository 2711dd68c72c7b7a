package main

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
)

// closedSysmonEVTX is the corpus's sysmon.evtx (a real Sysmon log: 358
// records in chunks 0-8, then slots of bytes that are no chunk) with the
// header a clean close would have left: 9 chunks, the last 8, next record
// id 359.
func closedSysmonEVTX(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(corpus.RequireFile(t, "omerbenamram-evtx/samples/sysmon.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	le.PutUint64(data[16:], 8)
	le.PutUint64(data[24:], 359)
	le.PutUint16(data[42:], 9)
	le.PutUint32(data[120:], 0)
	le.PutUint32(data[124:], crc32.ChecksumIEEE(data[:120]))
	return data
}

// TestEVTXSlackAndCut: replay and evtx dump agree on a sound log with
// slack past its chunks (exit 0, no error) and on the same log cut at a
// chunk boundary (every record present delivered or dumped, the file
// named truncated, exit 3).
func TestEVTXSlackAndCut(t *testing.T) {
	sound := corpus.RequireFile(t, "omerbenamram-evtx/samples/sysmon.evtx")
	out, stderr, code := run(t, "replay", sound)
	if code != ExitOK || strings.Count(out, "\n") != 287 || !strings.Contains(stderr, "errors: none") {
		t.Errorf("sysmon.evtx: exit %d, %d documents\n%s", code, strings.Count(out, "\n"), stderr)
	}
	out, stderr, code = run(t, "evtx", "dump", sound)
	if code != ExitOK || strings.Count(out, "\n") != 358 || strings.Contains(out, "<!--") || stderr != "" {
		t.Errorf("dump sysmon.evtx: exit %d, %d lines, stderr %q", code, strings.Count(out, "\n"), stderr)
	}

	dir := t.TempDir()
	data := closedSysmonEVTX(t)
	cut := filepath.Join(dir, "cut.evtx")
	// The header and chunks 0-4 of 0-8.
	if err := os.WriteFile(cut, data[:0x1000+5*0x10000], 0o600); err != nil {
		t.Fatal(err)
	}
	const why = "truncated data: the file header declares 9 chunks and next record id 359, the file holds 5 chunks (331776 bytes)"
	out, stderr, code = run(t, "replay", cut)
	files := summaryFiles(stderr)
	if code != ExitInputErrors || strings.Count(out, "\n") == 0 || len(files) != 1 || !strings.HasPrefix(files[0], cut+": "+why) {
		t.Errorf("cut: exit %d, %d documents, files with errors %q\n%s", code, strings.Count(out, "\n"), files, stderr)
	}
	for _, format := range []string{"xml", "json"} {
		out, stderr, code = run(t, "evtx", "dump", "--format", format, cut)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		last := lines[len(lines)-1]
		if code != ExitInputErrors || !strings.Contains(last, "error") || !strings.Contains(last, why) ||
			!strings.Contains(stderr, "error: "+cut+": "+why) || !strings.Contains(stderr, "exit status 3") {
			t.Errorf("dump %s of the cut file: exit %d, %d lines, last %.300q\nstderr %s", format, code, len(lines), last, stderr)
		}
		records := 0
		for _, l := range lines {
			if !strings.Contains(l, "error") {
				records++
			}
		}
		// Chunks 0-4 hold 218 records (the reference parsers agree).
		if records < 200 {
			t.Errorf("dump %s of the cut file: %d records", format, records)
		}
	}
}

// TestEVTXDumpExitCodes: evtx dump exits as replay would for the same file.
func TestEVTXDumpExitCodes(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.evtx")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	notEVTX := filepath.Join(dir, "text.evtx")
	if err := os.WriteFile(notEVTX, []byte(strings.Repeat("not an event log\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, want string
		code       int
	}{
		{filepath.Join(dir, "missing.evtx"), "no such file", ExitFatal},
		{empty, "error: " + empty + ": reading file header: EOF", ExitInputErrors},
		{notEVTX, "error: " + notEVTX + ": not an EVTX file", ExitInputErrors},
	} {
		_, stderr, code := run(t, "evtx", "dump", c.path)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.path, code, stderr, c.code, c.want)
		}
	}
}
