package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/procbeat/procbeat/module/process/decode"
)

// countingFS counts the bytes read from the files it opens.
type countingFS struct{ n atomic.Int64 }

func (c *countingFS) Open(ctx context.Context, name string) (File, error) {
	f, err := OS{}.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, n: &c.n}, nil
}

type countingFile struct {
	File
	n *atomic.Int64
}

func (f *countingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.n.Add(int64(n))
	return n, err
}

func (f *countingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	f.n.Add(int64(n))
	return n, err
}

func xmlEvent(i int) string {
	return fmt.Sprintf(`<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Sysmon"/><EventID>1</EventID><EventRecordID>%d</EventRecordID><Computer>h</Computer></System><EventData><Data Name="CommandLine">cmd %d %s</Data></EventData></Event>`+"\n", i, i, strings.Repeat("x", 200))
}

func jsonEvent(i int) string {
	return fmt.Sprintf(`{"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":"1","provider_name":"Microsoft-Windows-Sysmon","record_id":%d,"event_data":{"CommandLine":"cmd %d %s"}}}`, i, i, strings.Repeat("x", 200))
}

// TestGrownExportResumesAtTheByte: an XML and a JSON export read to their
// end, then grown (the export appended to), resume at the byte after the
// last record: the second run reads the new bytes, not the file again.
// The JSON export is a top-level array, so the resumed reader starts
// inside it.
func TestGrownExportResumesAtTheByte(t *testing.T) {
	for _, c := range []struct {
		name      string
		head, sep string
		tail      string
		event     func(int) string
	}{
		{name: "events.xml", head: "<Events>\n", event: xmlEvent, tail: "</Events>\n"},
		{name: "events.ndjson", event: func(i int) string { return jsonEvent(i) + "\n" }},
		{name: "events.json", head: "[\n", sep: ",\n", event: jsonEvent, tail: "\n]\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), c.name)
			body := func(from, to int) string {
				var b strings.Builder
				for i := from; i <= to; i++ {
					if i > 1 {
						b.WriteString(c.sep)
					}
					b.WriteString(c.event(i))
				}
				return b.String()
			}
			first := c.head + body(1, 4000)
			if err := os.WriteFile(path, []byte(first+c.tail), 0o600); err != nil {
				t.Fatal(err)
			}
			fsys := &countingFS{}
			var errs []*decode.RecordError
			s := NewFile(path, Options{FS: fsys, Decode: decode.Options{OnError: func(e *decode.RecordError) { errs = append(errs, e) }}})
			recs, pos := drain(t, s, Position{})
			if len(recs) != 4000 || recs[3999].RecordID != 4000 {
				t.Fatalf("first run: %d records", len(recs))
			}
			size1 := int64(len(first) + len(c.tail))
			if fsys.n.Load() < size1 {
				t.Fatalf("first run read %d of %d bytes", fsys.n.Load(), size1)
			}
			// The export grows: 100 more records (the closing tag or bracket
			// is written again after them).
			grown := first + body(4001, 4100) + c.tail
			if err := os.WriteFile(path, []byte(grown), 0o600); err != nil {
				t.Fatal(err)
			}
			fsys.n.Store(0)
			recs, _ = drain(t, s, pos)
			if len(recs) != 100 || recs[0].RecordID != 4001 || recs[99].RecordID != 4100 {
				t.Fatalf("resumed: %d records from %v", len(recs), recs[:min(1, len(recs))])
			}
			added := int64(len(grown)) - int64(pos.Offset)
			// What follows the position, plus the leading bytes the
			// position's check covers.
			if got := fsys.n.Load(); got > added+checkLen+SniffLen || got < added {
				t.Fatalf("resumed run read %d bytes; %d follow the position (file %d bytes)", got, added, len(grown))
			}
			if len(errs) != 0 {
				t.Fatalf("errors: %v", errs)
			}
			// The export grows again, cut before its closing tag or
			// bracket: the resumed run delivers the new records and, for
			// the wrapped exports, knows the file is cut.
			cut := grown[:len(grown)-len(c.tail)] + c.sep + body(4101, 4110)
			if err := os.WriteFile(path, []byte(cut), 0o600); err != nil {
				t.Fatal(err)
			}
			recs, _ = drain(t, s, pos)
			if len(recs) != 110 || recs[109].RecordID != 4110 {
				t.Fatalf("resumed in a cut export: %d records", len(recs))
			}
			if want := c.tail != ""; want != (len(errs) == 1 && errors.Is(errs[0], decode.ErrTruncated)) || len(errs) > 1 {
				t.Fatalf("resumed in a cut export: errors %v", errs)
			}
		})
	}
}

// TestReplacedExportReadAgain: an export replaced by another one (different
// first bytes) or truncated is read from its start, with a notice.
func TestReplacedExportReadAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.xml")
	var notes []string
	opts := Options{Notice: func(m string) { notes = append(notes, m) }}
	if err := os.WriteFile(path, []byte(xmlEvent(1)+xmlEvent(2)+xmlEvent(3)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, pos := drain(t, NewFile(path, opts), Position{})
	if err := os.WriteFile(path, []byte(xmlEvent(7)+xmlEvent(8)+xmlEvent(9)+xmlEvent(10)), 0o600); err != nil {
		t.Fatal(err)
	}
	recs, _ := drain(t, NewFile(path, opts), pos)
	if len(recs) != 4 || len(notes) != 1 || !strings.Contains(notes[0], "replaced") {
		t.Fatalf("replaced: %d records, notices %q", len(recs), notes)
	}
	if err := os.WriteFile(path, []byte(xmlEvent(1)), 0o600); err != nil {
		t.Fatal(err)
	}
	recs, _ = drain(t, NewFile(path, opts), pos)
	if len(recs) != 1 || len(notes) != 2 || !strings.Contains(notes[1], "shorter") {
		t.Fatalf("truncated: %d records, notices %q", len(recs), notes)
	}
}

// TestUTF16ExportResumes: UTF-16 exports (PowerShell redirection) resume
// too: their positions count the transcoded text, which is skipped up to
// the position on resume.
func TestUTF16ExportResumes(t *testing.T) {
	enc := func(s string) []byte {
		out := []byte{0xFF, 0xFE}
		for _, r := range s {
			out = append(out, byte(r), byte(r>>8))
		}
		return out
	}
	path := filepath.Join(t.TempDir(), "e.xml")
	if err := os.WriteFile(path, enc(xmlEvent(1)+xmlEvent(2)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, pos := drain(t, NewFile(path, Options{}), Position{})
	if err := os.WriteFile(path, enc(xmlEvent(1)+xmlEvent(2)+xmlEvent(3)), 0o600); err != nil {
		t.Fatal(err)
	}
	recs, _ := drain(t, NewFile(path, Options{}), pos)
	if len(recs) != 1 || recs[0].RecordID != 3 {
		t.Fatalf("utf-16 resume: %+v", recs)
	}
}
