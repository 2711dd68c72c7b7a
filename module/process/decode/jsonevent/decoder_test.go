package jsonevent

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/testing/decodetest"
	"github.com/procbeat/procbeat/winevent"
)

func decodeAll(t *testing.T, data []byte, name string, opts decode.Options) ([]winevent.Record, *Decoder) {
	t.Helper()
	d := NewDecoder(bytes.NewReader(data), name, opts)
	var out []winevent.Record
	for d.Next() {
		r := *d.Record()
		r.Data = append([]winevent.Data(nil), r.Data...)
		out = append(out, r)
	}
	if err := d.Err(); err != nil {
		t.Fatalf("fatal: %v", err)
	}
	return out, d
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func get(t *testing.T, r *winevent.Record, name string) string {
	t.Helper()
	v, ok := r.Get(name)
	if !ok {
		t.Fatalf("record %d: no data %q in %+v", r.RecordID, name, r.Data)
	}
	return v
}

func TestBeat8Layout(t *testing.T) {
	recs, d := decodeAll(t, readFile(t, "testdata/beat8.ndjson"), "beat8.ndjson", decode.Options{})
	if d.ErrorCount() != 0 {
		t.Fatalf("errors: %v", d.Errors())
	}
	if len(recs) != 3 {
		t.Fatalf("got %d records", len(recs))
	}
	r := &recs[0]
	want := winevent.Record{Provider: winevent.ProviderSysmon, EventID: 1, Version: 5, RecordID: 4711,
		Channel: winevent.ChannelSysmon, Computer: "ws1.example.local", UserID: "S-1-5-18", ProcessID: 3044, ThreadID: 4120,
		TimeCreated: time.Date(2024, 3, 1, 10, 0, 0, 123e6, time.UTC)}
	got := *r
	got.Data = nil
	if got.Provider != want.Provider || got.EventID != want.EventID || got.Version != want.Version || got.RecordID != want.RecordID ||
		got.Channel != want.Channel || got.Computer != want.Computer || got.UserID != want.UserID ||
		got.ProcessID != want.ProcessID || got.ThreadID != want.ThreadID || !got.TimeCreated.Equal(want.TimeCreated) {
		t.Errorf("header\n got %+v\nwant %+v", got, want)
	}
	for name, v := range map[string]string{
		"CommandLine":       `"C:\Windows\system32\cmd.exe" /c "echo \"hi\""`,
		"TerminalSessionId": "1",
		"LogonId":           "0x3e7",
		"IsExecutable":      "true",
		"Nothing":           "",
		"Big":               "18446744073709551615",
		"Unicode":           "café 😀",
	} {
		if g := get(t, r, name); g != v {
			t.Errorf("%s = %q, want %q", name, g, v)
		}
	}
	if r.Data[0].Name != "RuleName" || r.Data[len(r.Data)-1].Name != "Unicode" {
		t.Errorf("data order not kept: %+v", r.Data)
	}
	if recs[1].EventID != 4689 || recs[1].RecordID != 99 || get(t, &recs[1], "Status") != "0x0" {
		t.Errorf("4689: %+v", recs[1])
	}
	if get(t, &recs[2], "SubjectUserName") != "admin" {
		t.Errorf("user_data: %+v", recs[2].Data)
	}
	if _, ok := recs[2].Get("xml_name"); ok {
		t.Errorf("xml_name should not be data")
	}
}

func TestMixedArrayLayouts(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	recs, d := decodeAll(t, readFile(t, "testdata/mixed.json"), "mixed.json", decode.Options{Location: ny})
	if d.ErrorCount() != 0 {
		t.Fatalf("errors: %v", d.Errors())
	}
	if len(recs) != 3 {
		t.Fatalf("got %d records", len(recs))
	}
	b6 := &recs[0]
	if b6.Provider != winevent.ProviderSysmon || b6.EventID != 5 || b6.Version != 3 || b6.RecordID != 2234831 ||
		b6.Computer != "HR001.shire.com" || b6.UserID != "S-1-5-18" || b6.ProcessID != 2440 || b6.ThreadID != 3144 ||
		get(t, b6, "Image") != `C:\Windows\System32\reg.exe` || len(b6.Data) != 4 {
		t.Errorf("beat6: %+v", b6)
	}
	nx := &recs[1]
	if nx.EventID != 4688 || nx.Version != 2 || nx.RecordID != 81208 || nx.ProcessID != 4 || nx.ThreadID != 5000 ||
		nx.UserID != "S-1-5-18" || nx.Channel != "Security" || nx.Computer != "WORKSTATION5.theshire.local" {
		t.Errorf("nxlog header: %+v", nx)
	}
	// EDT is UTC-4.
	if want := time.Date(2020, 8, 6, 5, 20, 11, 0, time.UTC); !nx.TimeCreated.Equal(want) {
		t.Errorf("nxlog time %v, want %v", nx.TimeCreated, want)
	}
	var names []string
	for _, d := range nx.Data {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, ","); got != "NewProcessId,ProcessId,MandatoryLabel,CommandLine" {
		t.Errorf("nxlog data names %s", got)
	}
	// Without NXLog markers EventType is Sysmon's own field.
	if get(t, &recs[2], "EventType") != "SetValue" || len(recs[2].Data) != 2 {
		t.Errorf("otrf reduced: %+v", recs[2].Data)
	}
}

func TestBrokenRecordsDoNotCostNeighbours(t *testing.T) {
	var got []*decode.RecordError
	recs, d := decodeAll(t, readFile(t, "testdata/broken.ndjson"), "broken.ndjson",
		decode.Options{OnError: func(e *decode.RecordError) { got = append(got, e) }})
	if len(recs) != 2 || recs[0].EventID != 1 || recs[1].EventID != 4689 {
		t.Fatalf("good records: %+v", recs)
	}
	want := []struct {
		line, index int
		field       string
		err         error
	}{
		{2, 2, "", errTruncated},
		{3, 3, "", errNotObject},
		{4, 4, "EventID", nil},
		{5, 5, "bad", nil},
		{6, 6, "TimeCreated", nil},
		{8, 8, "", errTruncated},
	}
	if len(got) != len(want) || d.ErrorCount() != len(want) || len(d.Errors()) != len(want) {
		t.Fatalf("errors: %v", got)
	}
	for i, w := range want {
		e := got[i]
		if e.File != "broken.ndjson" || e.Line != w.line || e.Index != w.index || e.Field != w.field || (w.err != nil && !errors.Is(e, w.err)) {
			t.Errorf("error %d: %v (line %d index %d field %q), want line %d index %d field %q", i, e, e.Line, e.Index, e.Field, w.line, w.index, w.field)
		}
	}
	if !strings.Contains(got[2].Error(), "broken.ndjson:4: record 4: field EventID") {
		t.Errorf("message: %v", got[2])
	}
}

func TestTooLongLineSkipped(t *testing.T) {
	long := `{"EventID":1,"SourceName":"Microsoft-Windows-Sysmon","TimeCreated":"2020-01-01 00:00:00","Pad":"` + strings.Repeat("x", 5000) + `"}`
	good := `{"EventID":5,"SourceName":"Microsoft-Windows-Sysmon","TimeCreated":"2020-01-01 00:00:00"}`
	in := good + "\n" + long + "\n" + good + "\n"
	d := NewDecoder(strings.NewReader(in), "long", decode.Options{MaxRecordSize: 1024, MaxErrors: 1})
	var offs []int64
	for d.Next() {
		offs = append(offs, d.Offset())
	}
	if len(offs) != 2 || d.ErrorCount() != 1 || d.Errors()[0].Line != 2 {
		t.Fatalf("recs %d errors %v", len(offs), d.Errors())
	}
	if !strings.Contains(d.Errors()[0].Error(), "exceeds the 1024 byte limit") {
		t.Errorf("message: %v", d.Errors()[0])
	}
	if offs[0] != int64(len(good)) || offs[1] != int64(len(in)-1) {
		t.Errorf("offsets %v, want %d and %d", offs, len(good), len(in)-1)
	}
}

func TestErrorLogIsBounded(t *testing.T) {
	in := strings.Repeat("garbage\n", 50)
	_, d := decodeAll(t, []byte(in), "g", decode.Options{MaxErrors: 3})
	if d.ErrorCount() != 50 || len(d.Errors()) != 3 {
		t.Fatalf("count %d kept %d", d.ErrorCount(), len(d.Errors()))
	}
}

func TestUTF16Input(t *testing.T) {
	text := `[{"EventID":4688,"SourceName":"Microsoft-Windows-Security-Auditing","TimeCreated":"2020-01-01 00:00:00","NewProcessName":"C:\\Temp\\é.exe"}]`
	u := utf16.Encode([]rune(text))
	buf := []byte{0xFF, 0xFE}
	for _, c := range u {
		buf = append(buf, byte(c), byte(c>>8))
	}
	recs, d := decodeAll(t, buf, "u16", decode.Options{})
	if len(recs) != 1 || d.ErrorCount() != 0 || get(t, &recs[0], "NewProcessName") != `C:\Temp\é.exe` {
		t.Fatalf("recs %+v errs %v", recs, d.Errors())
	}
}

func BenchmarkDecodeBeat8(b *testing.B) {
	line, err := os.ReadFile("testdata/beat8.ndjson")
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, line[:bytes.IndexByte(line, '\n')+1])
}

// benchDecode decodes 1000 copies of line.
func benchDecode(b *testing.B, line []byte) {
	data := bytes.Repeat(line, 1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := NewDecoder(bytes.NewReader(data), "bench", decode.Options{})
		n := 0
		for d.Next() {
			n++
		}
		if n != 1000 {
			b.Fatal(n, d.Errors())
		}
	}
}

// BenchmarkDecodeDump decodes a Sysmon 1 record in the form of procbeat's
// evtx dump --format json.
func BenchmarkDecodeDump(b *testing.B) {
	lines, err := os.ReadFile("testdata/sample.dump.ndjson")
	if err != nil {
		b.Fatal(err)
	}
	i := bytes.Index(lines, []byte(`{"Provider":"Microsoft-Windows-Sysmon","EventID":1,`))
	benchDecode(b, lines[i:i+bytes.IndexByte(lines[i:], '\n')+1])
}

func TestConcatenatedPrettyObjects(t *testing.T) {
	in := "{\n  \"EventID\": 1,\n  \"SourceName\": \"Microsoft-Windows-Sysmon\",\n  \"Image\": \"a\"\n}\n{\n  \"EventID\": 5,\n  \"SourceName\": \"Microsoft-Windows-Sysmon\"\n}{\"EventID\":10,\"SourceName\":\"Microsoft-Windows-Sysmon\"}"
	recs, d := decodeAll(t, []byte(in), "pretty", decode.Options{})
	if d.ErrorCount() != 0 || len(recs) != 3 || recs[0].EventID != 1 || recs[1].EventID != 5 || recs[2].EventID != 10 || get(t, &recs[0], "Image") != "a" {
		t.Fatalf("recs %+v errors %v", recs, d.Errors())
	}
}

func TestArrayWithNonObjects(t *testing.T) {
	in := `[{"EventID":1,"SourceName":"S"}, 42, "x", [1,2], {"EventID":2,"SourceName":"S"}]`
	recs, d := decodeAll(t, []byte(in), "arr", decode.Options{})
	if len(recs) != 2 || recs[1].EventID != 2 || d.ErrorCount() != 3 {
		t.Fatalf("recs %d errors %v", len(recs), d.Errors())
	}
}

// FuzzDecoder checks that no input panics or loops, and that every
// framed value ends up either as a record or as an error.
func FuzzDecoder(f *testing.F) {
	for _, name := range []string{"testdata/beat8.ndjson", "testdata/mixed.json", "testdata/broken.ndjson", "testdata/sample.dump.ndjson"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bytes.NewReader(data), "fuzz", decode.Options{MaxRecordSize: 512})
		n := 0
		for d.Next() {
			n++
			if n > len(data) {
				t.Fatal("more records than bytes")
			}
		}
		if n+d.ErrorCount() > len(data)+1 {
			t.Fatalf("%d records + %d errors from %d bytes", n, d.ErrorCount(), len(data))
		}
	})
}

// TestArrayCutBetweenRecords: an array export cut right after a record
// (with or without the comma that followed it) delivers its records and
// reports the truncation once, naming the line it ends on; a record cut in
// the middle is reported once, as that record; a complete array is clean.
func TestArrayCutBetweenRecords(t *testing.T) {
	const (
		a = `{"EventID":1,"SourceName":"S"}`
		b = `{"EventID":5,"SourceName":"S"}`
	)
	decodetest.CheckCuts(t, []decodetest.Cut{
		{Name: "complete", In: "[\n" + a + ",\n" + b + "\n]\n", Recs: 2},
		{Name: "complete after white space", In: "\r\n [" + a + "," + b + "]", Recs: 2},
		{Name: "cut after a comma", In: "[\n" + a + ",\n" + b + ",\n", Recs: 2, Truncated: true,
			Msg: "cut:3: input is truncated: it ends inside the top-level JSON array opened on line 1 (no closing ']'), after record 2"},
		{Name: "cut after a record", In: "\n\n  [" + a + ",\n" + b, Recs: 2, Truncated: true,
			Msg: "cut:4: input is truncated: it ends inside the top-level JSON array opened on line 3 (no closing ']'), after record 2"},
		{Name: "only the bracket", In: "[", Truncated: true, Msg: "cut:1: input is truncated"},
		{Name: "cut inside a record", In: "[\n" + a + ",\n" + b[:10], Recs: 1, Msg: "cut:3: record 2: record is truncated"},
		{Name: "NDJSON cut after a line", In: a + "\n" + b + "\n", Recs: 2},
	}, func(in string) decode.Reader { return NewDecoder(strings.NewReader(in), "cut", decode.Options{}) })
	// A file still being written (procbeat run) ends inside its array
	// until it is done: that is no error.
	decodetest.CheckCuts(t, []decodetest.Cut{
		{Name: "growing, after a comma", In: "[\n" + a + ",\n" + b + ",\n", Recs: 2},
		{Name: "growing, after a record", In: "[\n" + a + ",\n" + b, Recs: 2},
	}, func(in string) decode.Reader {
		return NewDecoder(strings.NewReader(in), "cut", decode.Options{Growing: true})
	})
}

// TestResumedArrayCut: reading resumed inside an array knows it is open.
func TestResumedArrayCut(t *testing.T) {
	d := NewDecoder(strings.NewReader(`,{"EventID":5,"SourceName":"S"},`), "cut", decode.Options{})
	d.ResumeInArray()
	n := 0
	for d.Next() {
		n++
	}
	if n != 1 || d.ErrorCount() != 1 || !errors.Is(d.Errors()[0], decode.ErrTruncated) ||
		d.Errors()[0].Error() != "cut:1: input is truncated: it ends inside the top-level JSON array (no closing ']'), after record 1" {
		t.Fatalf("%d records, errors %v", n, d.Errors())
	}
}
