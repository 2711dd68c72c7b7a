package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/winevent"
)

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		name string
		head string
		want Format
	}{
		{"a.evtx", "ElfFile\x00rest", FormatEVTX},
		{"a.json", "ElfFile\x00rest", FormatEVTX},
		{"a.txt", "  \r\n<Events>", FormatXML},
		{"a.json", "<Event xmlns=''>", FormatXML},
		{"a.log", "{\"EventID\":1}", FormatJSON},
		{"a.xml", "[{}]", FormatJSON},
		{"a.txt", "\xEF\xBB\xBF<Event>", FormatXML},
		{"a.txt", "\xFF\xFE<\x00E\x00", FormatXML},
		{"a.txt", "\xFE\xFF\x00{", FormatJSON},
		{"a.xml", "", FormatXML},
		{"a.NDJSON", "", FormatJSON},
		{"a.jsonl", "", FormatJSON},
		{"a.EVTX", "", FormatEVTX},
		{"a.txt", "hello <x>", FormatUnknown},
		{"a", "", FormatUnknown},
	} {
		if got := Detect(c.name, []byte(c.head)); got != c.want {
			t.Errorf("Detect(%q, %q) = %v, want %v", c.name, c.head, got, c.want)
		}
	}
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// drain reads a source from pos and returns its records and the position
// after the last one.
func drain(t *testing.T, s Source, pos Position) ([]winevent.Record, Position) {
	t.Helper()
	ctx := context.Background()
	r, err := s.Open(ctx, pos)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []winevent.Record
	end := pos
	for r.Next(ctx) {
		rec := *r.Record()
		rec.Data = append([]winevent.Data(nil), rec.Data...)
		out = append(out, rec)
		end = r.Position()
	}
	if r.Err() != nil {
		t.Fatalf("err %v", r.Err())
	}
	return out, end
}

func TestOpenXMLAndJSON(t *testing.T) {
	xmlPath := write(t, "events.txt", `<Events><Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID></System></Event></Events>`)
	jsonPath := write(t, "events.xml", `{"EventID":4688,"SourceName":"Microsoft-Windows-Security-Auditing","TimeCreated":"2020-01-01 00:00:00"}`)
	for path, want := range map[string]uint16{xmlPath: 1, jsonPath: 4688} {
		recs, _ := drain(t, NewFile(path, Options{}), Position{})
		if len(recs) != 1 || recs[0].EventID != want {
			t.Errorf("%s: %+v", path, recs)
		}
	}
	// A forced format overrides detection.
	var errs int
	recs, _ := drain(t, NewFile(xmlPath, Options{Format: FormatJSON, Decode: decode.Options{OnError: func(*decode.RecordError) { errs++ }}}), Position{})
	if len(recs) != 0 || errs != 1 {
		t.Errorf("forced json on xml: %d records, %d errors", len(recs), errs)
	}
}

// An export that ends inside its array is cut when read as a finished
// file, and still being written when read as a growing one (procbeat
// run): only the first reports it.
func TestGrowingExportNotTruncated(t *testing.T) {
	path := write(t, "growing.json", `[{"EventID":4688,"SourceName":"Microsoft-Windows-Security-Auditing","TimeCreated":"2020-01-01 00:00:00"},`)
	for _, growing := range []bool{false, true} {
		var errs []*decode.RecordError
		recs, _ := drain(t, NewFile(path, Options{Growing: growing, Decode: decode.Options{OnError: func(e *decode.RecordError) { errs = append(errs, e) }}}), Position{})
		want := 1
		if growing {
			want = 0
		}
		if len(recs) != 1 || len(errs) != want || want == 1 && !errors.Is(errs[0], decode.ErrTruncated) {
			t.Errorf("growing %v: %d records, errors %v; want 1 record and %d truncation errors", growing, len(recs), errs, want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := NewFile(write(t, "a.txt", "hello"), Options{}).Open(ctx, Position{}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown: %v", err)
	}
	if _, err := NewFile(filepath.Join(t.TempDir(), "missing.xml"), Options{}).Open(ctx, Position{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := ParseFormat("csv"); err == nil {
		t.Error("ParseFormat csv")
	}
	if f, _ := ParseFormat("JSONL"); f != FormatJSON {
		t.Error("ParseFormat JSONL")
	}
}

// A read resumed at a checkpoint counts lines and records from there, and
// its messages say so: "line 2" must not send anyone to the file's line 2.
func TestResumedErrorsSayWhereCountingStarts(t *testing.T) {
	good := `{"EventID":4688,"SourceName":"Microsoft-Windows-Security-Auditing","TimeCreated":"2020-01-01T00:00:00Z"}` + "\n"
	path := write(t, "resumed.ndjson", good+good+good+`{"EventID":4688, "TimeCreated": broken`+"\n")
	from := uint64(2 * len(good))
	var errs []*decode.RecordError
	recs, _ := drain(t, NewFile(path, Options{Decode: decode.Options{OnError: func(e *decode.RecordError) { errs = append(errs, e) }}}), Position{Offset: from, Check: textCheck([]byte(good+good+good), from)})
	if len(recs) != 1 || len(errs) != 1 {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
	want := fmt.Sprintf("%s:2 (line and record counted from byte %d, where reading resumed): record 2: ", path, from)
	if !strings.HasPrefix(errs[0].Error(), want) {
		t.Errorf("error %q, want it to start %q", errs[0], want)
	}
}
