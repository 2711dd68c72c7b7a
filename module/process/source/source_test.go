package source

import (
	"errors"
	"io"
	"os"
	"path/filepath"
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

func drain(t *testing.T, r decode.Reader) []winevent.Record {
	t.Helper()
	var out []winevent.Record
	for r.Next() {
		out = append(out, *r.Record())
	}
	if r.Err() != nil || r.ErrorCount() != 0 {
		t.Fatalf("err %v errors %v", r.Err(), r.Errors())
	}
	return out
}

func TestOpenXMLAndJSON(t *testing.T) {
	xmlPath := write(t, "events.txt", `<Events><Event><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID></System></Event></Events>`)
	jsonPath := write(t, "events.xml", `{"EventID":4688,"SourceName":"Microsoft-Windows-Security-Auditing","TimeCreated":"2020-01-01 00:00:00"}`)
	var o Opener
	for path, want := range map[string]uint16{xmlPath: 1, jsonPath: 4688} {
		f, err := o.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		recs := drain(t, f)
		if len(recs) != 1 || recs[0].EventID != want {
			t.Errorf("%s (%v): %+v", path, f.Format, recs)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	}
	// A forced format overrides detection.
	o.Format = FormatJSON
	f, err := o.Open(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	for f.Next() {
	}
	if f.ErrorCount() != 1 {
		t.Errorf("forced json on xml: %d errors", f.ErrorCount())
	}
	f.Close()
}

type fakeEVTX struct{ n int }

func (f *fakeEVTX) Next() bool                    { f.n++; return f.n == 1 }
func (f *fakeEVTX) Record() *winevent.Record      { return &winevent.Record{EventID: 4689} }
func (f *fakeEVTX) Err() error                    { return nil }
func (f *fakeEVTX) Errors() []*decode.RecordError { return nil }
func (f *fakeEVTX) ErrorCount() int               { return 0 }

func TestOpenEVTXHook(t *testing.T) {
	p := write(t, "x.bin", "ElfFile\x00"+string(make([]byte, 100)))
	if _, err := (Opener{}).Open(p); !errors.Is(err, ErrNoEVTXReader) {
		t.Fatalf("no hook: %v", err)
	}
	var gotSize int64
	o := Opener{EVTX: func(r io.ReaderAt, size int64, name string, opts decode.Options) (decode.Reader, error) {
		gotSize = size
		buf := make([]byte, 8)
		if _, err := r.ReadAt(buf, 0); err != nil || string(buf) != "ElfFile\x00" {
			t.Errorf("ReadAt: %q %v", buf, err)
		}
		return &fakeEVTX{}, nil
	}}
	f, err := o.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if recs := drain(t, f); len(recs) != 1 || recs[0].EventID != 4689 || gotSize != 108 || f.Format != FormatEVTX {
		t.Errorf("recs %+v size %d", recs, gotSize)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := (Opener{}).Open(write(t, "a.txt", "hello")); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown: %v", err)
	}
	if _, err := (Opener{}).Open(filepath.Join(t.TempDir(), "missing.xml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := ParseFormat("csv"); err == nil {
		t.Error("ParseFormat csv")
	}
	if f, _ := ParseFormat("JSONL"); f != FormatJSON {
		t.Error("ParseFormat JSONL")
	}
}
