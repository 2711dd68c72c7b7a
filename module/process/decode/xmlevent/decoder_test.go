package xmlevent

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

func decodeAll(t testing.TB, data []byte, opts decode.Options) ([]winevent.Record, *Decoder) {
	t.Helper()
	d := NewDecoder(bytes.NewReader(data), "test.xml", opts)
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

func file(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func names(r *winevent.Record) string {
	var n []string
	for _, d := range r.Data {
		n = append(n, d.Name)
	}
	return strings.Join(n, ",")
}

func val(t *testing.T, r *winevent.Record, name string) string {
	t.Helper()
	v, ok := r.Get(name)
	if !ok {
		t.Fatalf("record %d: no %s in %s", r.RecordID, name, names(r))
	}
	return v
}

func TestSysmonFieldSets(t *testing.T) {
	recs, d := decodeAll(t, file(t, "testdata/sysmon.xml"), decode.Options{})
	if d.ErrorCount() != 0 {
		t.Fatal(d.Errors())
	}
	type want struct {
		eid    uint16
		ver    uint8
		fields int
		first  string
		has    []string
		hasnt  []string
	}
	wants := []want{
		{1, 5, 16, "UtcTime", []string{"Hashes", "ParentCommandLine"}, []string{"RuleName", "FileVersion", "OriginalFileName", "ParentUser"}},
		{1, 5, 21, "RuleName", []string{"FileVersion", "Description", "Product", "Company"}, []string{"OriginalFileName", "ParentUser"}},
		{1, 5, 22, "RuleName", []string{"OriginalFileName"}, []string{"ParentUser"}},
		{1, 5, 23, "RuleName", []string{"OriginalFileName", "ParentUser"}, nil},
		{5, 3, 5, "RuleName", nil, []string{"User"}},
		{5, 3, 6, "RuleName", []string{"User"}, nil},
		{10, 3, 11, "RuleName", []string{"GrantedAccess", "CallTrace"}, []string{"SourceUser", "TargetUser"}},
		{10, 3, 13, "RuleName", []string{"SourceUser", "TargetUser"}, nil},
	}
	if len(recs) != len(wants) {
		t.Fatalf("got %d records, want %d", len(recs), len(wants))
	}
	for i, w := range wants {
		r := &recs[i]
		if r.EventID != w.eid || r.Version != w.ver || len(r.Data) != w.fields || r.Data[0].Name != w.first {
			t.Errorf("record %d: eid %d v%d %d fields (%s)", i, r.EventID, r.Version, len(r.Data), names(r))
		}
		for _, h := range w.has {
			if _, ok := r.Get(h); !ok {
				t.Errorf("record %d: missing %s", i, h)
			}
		}
		for _, h := range w.hasnt {
			if _, ok := r.Get(h); ok {
				t.Errorf("record %d: unexpected %s", i, h)
			}
		}
		if r.Provider != winevent.ProviderSysmon || r.Channel != winevent.ChannelSysmon || r.Computer != "ws1.corp.local" ||
			r.UserID != "S-1-5-18" || r.ProcessID != 3044 || r.ThreadID != 4120 || r.RecordID != uint64(101+i) {
			t.Errorf("record %d header: %+v", i, *r)
		}
	}
	r := &recs[0]
	if want := time.Date(2017, 6, 1, 10, 0, 0, 101234500, time.UTC); !r.TimeCreated.Equal(want) {
		t.Errorf("time %v want %v", r.TimeCreated, want)
	}
	if got := val(t, r, "CommandLine"); got != `"C:\Windows\system32\cmd.exe" /c "dir & whoami"` {
		t.Errorf("entities: %q", got)
	}
	if got := val(t, &recs[1], "RuleName"); got != "" {
		t.Errorf("empty Data: %q", got)
	}
	if got := val(t, &recs[1], "Product"); got != "Microsoft® Windows® Operating System" {
		t.Errorf("utf-8: %q", got)
	}
}

func TestSecurityConcatenated(t *testing.T) {
	recs, d := decodeAll(t, file(t, "testdata/security.xml"), decode.Options{})
	if d.ErrorCount() != 0 {
		t.Fatal(d.Errors())
	}
	wants := []struct {
		eid    uint16
		ver    uint8
		fields int
	}{{4688, 0, 8}, {4688, 1, 9}, {4688, 2, 13}, {4688, 2, 15}, {4689, 0, 7}}
	if len(recs) != len(wants) {
		t.Fatalf("got %d", len(recs))
	}
	for i, w := range wants {
		r := &recs[i]
		if r.EventID != w.eid || r.Version != w.ver || len(r.Data) != w.fields || r.UserID != "" || r.Channel != "Security" {
			t.Errorf("record %d: %d v%d %d fields %s", i, r.EventID, r.Version, len(r.Data), names(r))
		}
	}
	if v := val(t, &recs[3], "MandatoryLabel"); v != "S-1-16-8192" {
		t.Errorf("MandatoryLabel %q", v)
	}
	if _, ok := recs[3].Get("Message"); ok {
		t.Error("RenderingInfo leaked into data")
	}
	if v := val(t, &recs[4], "Status"); v != "0xc0000005" {
		t.Errorf("Status %q", v)
	}
	if want := time.Date(2014, 1, 1, 0, 0, 1, 5e8, time.UTC); !recs[1].TimeCreated.Equal(want) {
		t.Errorf("time %v", recs[1].TimeCreated)
	}
}

func TestUserDataAndUnnamedData(t *testing.T) {
	recs, d := decodeAll(t, file(t, "testdata/userdata.xml"), decode.Options{})
	if d.ErrorCount() != 0 || len(recs) != 2 {
		t.Fatal(len(recs), d.Errors())
	}
	if got := names(&recs[0]); got != "SubjectUserSid,SubjectUserName,SubjectDomainName,SubjectLogonId" {
		t.Errorf("user data names %s", got)
	}
	if v := val(t, &recs[0], "SubjectUserName"); v != "admin" {
		t.Errorf("user data value %q", v)
	}
	c := &recs[1]
	if c.EventID != 7036 || c.Provider != "Service Control Manager" || names(c) != "param1,param2,Binary" || val(t, c, "param2") != "running" {
		t.Errorf("classic: %+v", *c)
	}
}

func TestBrokenEventsAreSkipped(t *testing.T) {
	good := string(file(t, "testdata/security.xml"))
	one := good[:strings.Index(good, "</Event>")+len("</Event>")]
	big := strings.Replace(one, "whoami.exe", strings.Repeat("x", 3000), 1)
	in := "<Events>\n" + one + "\n" +
		"<Event><System><EventID>notanumber</EventID></System></Event>\n" + // bad field
		"<Event><System><EventID>1</EventID></System><EventData><Data Name='a'>x</Dat></EventData></Event>\n" + // syntax
		big + "\n" + // too large
		"<Event><System><Provider Name='x'/></System></Event>\n" + // no EventID
		"<!-- a comment with <Event> inside -->\n" +
		one + "\n</Events>\n" +
		one[:100] // truncated at EOF
	var seen []*decode.RecordError
	recs, d := decodeAll(t, []byte(in), decode.Options{MaxRecordSize: 2048, OnError: func(e *decode.RecordError) { seen = append(seen, e) }})
	if len(recs) != 2 {
		t.Fatalf("good records %d", len(recs))
	}
	want := []struct {
		line  int
		index int
		field string
	}{{3, 2, "System/EventID"}, {4, 3, ""}, {5, 4, ""}, {6, 5, "System/EventID"}, {10, 7, ""}}
	if len(seen) != len(want) || d.ErrorCount() != len(want) {
		t.Fatalf("errors: %v", seen)
	}
	for i, w := range want {
		if e := seen[i]; e.Line != w.line || e.Index != w.index || e.Field != w.field || e.File != "test.xml" {
			t.Errorf("error %d: %v (line %d index %d field %q)", i, e, e.Line, e.Index, e.Field)
		}
	}
	if !errors.Is(seen[4], errTruncated) || !strings.Contains(seen[2].Error(), "exceeds the 2048 byte limit") {
		t.Errorf("messages: %v / %v", seen[4], seen[2])
	}
}

func TestUTF16WithBOM(t *testing.T) {
	src := string(file(t, "testdata/sysmon.xml"))
	u := utf16.Encode([]rune(src))
	buf := []byte{0xFF, 0xFE}
	for _, c := range u {
		buf = append(buf, byte(c), byte(c>>8))
	}
	recs, d := decodeAll(t, buf, decode.Options{})
	if len(recs) != 8 || d.ErrorCount() != 0 {
		t.Fatal(len(recs), d.Errors())
	}
	if v := val(t, &recs[1], "Product"); v != "Microsoft® Windows® Operating System" {
		t.Errorf("transcoding: %q", v)
	}
}

func BenchmarkDecodeSysmonXML(b *testing.B) {
	src := file(b, "testdata/sysmon.xml")
	data := bytes.Repeat(src, 200)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := NewDecoder(bytes.NewReader(data), "bench", decode.Options{})
		n := 0
		for d.Next() {
			n++
		}
		if n != 1600 {
			b.Fatal(n, d.Errors())
		}
	}
}

func FuzzDecoder(f *testing.F) {
	for _, name := range []string{"testdata/sysmon.xml", "testdata/security.xml", "testdata/userdata.xml"} {
		f.Add(file(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bytes.NewReader(data), "fuzz", decode.Options{MaxRecordSize: 4096})
		n := 0
		for d.Next() {
			n++
		}
		if n+d.ErrorCount() > len(data) {
			t.Fatalf("%d records + %d errors from %d bytes", n, d.ErrorCount(), len(data))
		}
	})
}

func TestCommentsAndCDATAWithRuns(t *testing.T) {
	in := `<!-- x <Event> y ---><Events><![CDATA[ <Event> ]]]><Event><System><EventID>7</EventID></System><EventData><Data Name='a'><![CDATA[<b>]]]]></Data></EventData></Event></Events>`
	recs, d := decodeAll(t, []byte(in), decode.Options{})
	if len(recs) != 1 || d.ErrorCount() != 0 || recs[0].EventID != 7 {
		t.Fatalf("recs %+v errors %v", recs, d.Errors())
	}
	if v := val(t, &recs[0], "a"); v != "<b>]]" {
		t.Errorf("CDATA value %q", v)
	}
}

func TestDecodeEventOneAtATime(t *testing.T) {
	var reported []*decode.RecordError
	d := NewEventDecoder("Security", decode.Options{MaxRecordSize: 600, OnError: func(e *decode.RecordError) { reported = append(reported, e) }})
	good := []byte(`<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing"/><EventID>4688</EventID><EventRecordID>42</EventRecordID><Computer>WS1.corp.example</Computer></System><EventData><Data Name="NewProcessName">C:\x.exe</Data></EventData></Event>`)
	rec, err := d.DecodeEvent(good)
	if err != nil {
		t.Fatal(err)
	}
	if rec.EventID != 4688 || rec.RecordID != 42 || rec.Computer != "WS1.corp.example" {
		t.Fatalf("record %+v", rec)
	}
	if v, _ := rec.Get("NewProcessName"); v != `C:\x.exe` {
		t.Fatalf("NewProcessName %q", v)
	}
	// A truncated event (what a render into a short buffer would give) is
	// an error naming the input and the record, never a partial record.
	if _, err := d.DecodeEvent(good[:len(good)-10]); err == nil || !strings.Contains(err.Error(), "Security:1: record 2:") {
		t.Fatalf("truncated event: %v", err)
	}
	big := bytes.Repeat([]byte{' '}, 601)
	if _, err := d.DecodeEvent(big); err == nil || !strings.Contains(err.Error(), "exceeds the 600 byte limit") {
		t.Fatalf("oversized event: %v", err)
	}
	if len(reported) != 2 || d.ErrorCount() != 2 {
		t.Fatalf("reported %d, counted %d, want 2", len(reported), d.ErrorCount())
	}
	// The decoder goes on after bad events.
	if rec, err := d.DecodeEvent(good); err != nil || rec.RecordID != 42 {
		t.Fatalf("after errors: %v %+v", err, rec)
	}
}

// TestWrappedExportCut: an export inside a root element, cut right after
// an event, delivers its events and reports the truncation once, naming
// the root and the line the input ends on; an event cut in the middle is
// reported once, as that event; concatenated events have no root to miss.
func TestWrappedExportCut(t *testing.T) {
	src := string(file(t, "testdata/security.xml"))
	one := src[:strings.Index(src, "</Event>")+len("</Event>")]
	if strings.Contains(one, "\n") {
		t.Fatal("the test wants a one-line event")
	}
	decodetest.CheckCuts(t, []decodetest.Cut{
		{Name: "complete", In: "<?xml version='1.0'?>\n<Events>\n" + one + "\n" + one + "\n</Events>\n", Recs: 2},
		{Name: "cut after an event", In: "<?xml version='1.0'?>\n<!-- x -->\n<Events>\n" + one + "\n" + one + "\n", Recs: 2, Truncated: true,
			Msg: "test.xml:5: input is truncated: it ends inside the <Events> element opened on line 3 (no end tag), after record 2"},
		{Name: "cut in the end tag", In: "<Events>" + one + "</Even", Recs: 1, Truncated: true,
			Msg: "test.xml:1: input is truncated: it ends inside the <Events> element opened on line 1"},
		{Name: "nested roots", In: "<a:Root xmlns:a='u'><Events>" + one, Recs: 1, Truncated: true,
			Msg: "test.xml:1: input is truncated: it ends inside the <a:Root> element opened on line 1"},
		{Name: "cut inside an event", In: "<Events>\n" + one + "\n" + one[:200], Recs: 1, Msg: "test.xml:3: record 2: event is truncated"},
		{Name: "concatenated", In: one + "\n" + one + "\n", Recs: 2},
	}, func(in string) decode.Reader { return NewDecoder(strings.NewReader(in), "test.xml", decode.Options{}) })
}

// TestResumedWrappedExportCut: reading resumed after an event of a wrapped
// export learns of the root from the export's first bytes; the end tag it
// then reads closes it.
func TestResumedWrappedExportCut(t *testing.T) {
	src := string(file(t, "testdata/security.xml"))
	one := src[:strings.Index(src, "</Event>")+len("</Event>")]
	head := []byte("<?xml version='1.0'?>\n<Events>\n" + one + "\n")
	for _, c := range []struct {
		rest string
		errs int
	}{{one + "\n", 1}, {one + "\n</Events>\n", 0}} {
		d := NewDecoder(strings.NewReader(c.rest), "test.xml", decode.Options{})
		d.ResumeAfter(head)
		n := 0
		for d.Next() {
			n++
		}
		if n != 1 || d.ErrorCount() != c.errs || (c.errs > 0 && !strings.Contains(d.Errors()[0].Error(), "inside the <Events> element opened on line 2")) {
			t.Errorf("%d records, errors %v", n, d.Errors())
		}
	}
}
