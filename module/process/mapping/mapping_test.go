package mapping_test

import (
	"bytes"
	"errors"
	"flag"
	"github.com/procbeat/procbeat/module/process/winfmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/decode/jsonevent"
	"github.com/procbeat/procbeat/module/process/decode/xmlevent"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/winevent"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var created = time.Date(2024, 3, 5, 15, 0, 0, 0, time.UTC)

func newMapper(tr *tracker.Tracker) *mapping.Mapper {
	return mapping.New(tr, mapping.Options{
		Namespace: "test",
		AgentID:   "0f6c3bbd-5a1e-4c4e-9a3f-2d1b7e0c6a11",
		// This machine is WKS-042; SRV01 is a replayed host whose id is
		// derived from its name.
		Host: mapping.Host{ID: "host-1", Name: "WKS-042", Architecture: "x86_64", IP: []string{"10.20.30.40"}},
		Now:  func() time.Time { return created },
	})
}

func readRecords(t *testing.T, path string) []winevent.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := xmlevent.NewDecoder(f, path, decode.Options{})
	var recs []winevent.Record
	for d.Next() {
		r := *d.Record()
		r.Data = append([]winevent.Data(nil), r.Data...)
		recs = append(recs, r)
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if d.ErrorCount() != 0 {
		t.Fatalf("fixture has decode errors: %v", d.Errors())
	}
	return recs
}

// readWinlogbeatRecords decodes a Winlogbeat JSON export, which must
// decode without errors.
func readWinlogbeatRecords(t *testing.T, path string) []winevent.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := jsonevent.NewDecoder(f, filepath.Base(path), decode.Options{})
	var recs []winevent.Record
	for d.Next() {
		r := *d.Record()
		r.Data = append([]winevent.Data(nil), r.Data...)
		recs = append(recs, r)
	}
	if d.Err() != nil || d.ErrorCount() != 0 {
		t.Fatalf("decode: %v %v", d.Err(), d.Errors())
	}
	return recs
}

// mapAll maps records in order and renders one NDJSON line per document,
// "# error: ..." lines for records the mapping refused.
func mapAll(t *testing.T, m *mapping.Mapper, recs []winevent.Record) ([]byte, map[mapping.Kind]int) {
	t.Helper()
	var out []byte
	var doc document.Document
	counts := map[mapping.Kind]int{}
	for i := range recs {
		kind, err := m.Map(&recs[i], &doc)
		if err != nil {
			out = append(out, "# record "...)
			out = append(out, recs[i].Computer...)
			out = append(out, " error: "...)
			out = append(out, err.Error()...)
			out = append(out, '\n')
			if !mapping.Omitted(err) {
				continue
			}
		}
		counts[kind]++
		if kind == mapping.None {
			continue
		}
		out = append(out, m.Index(kind)...)
		out = append(out, ' ')
		out = doc.AppendJSON(out)
		out = append(out, '\n')
	}
	return out, counts
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got %s\nwant %s", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: %d lines, want %d", path, len(gl), len(wl))
	}
}

func TestScenarioGolden(t *testing.T) {
	recs := readRecords(t, "testdata/scenario.xml")
	out, counts := mapAll(t, newMapper(tracker.New(tracker.Options{})), recs)
	golden(t, "testdata/scenario.golden", out)
	if counts[mapping.Start] != 8 || counts[mapping.End] != 4 || counts[mapping.Access] != 2 || counts[mapping.None] != 1 {
		t.Errorf("counts %v", counts)
	}
	if !bytes.Contains(out, []byte("# record SRV01.corp.example.com error: field ProcessId: value \"12ab\"")) {
		t.Error("the broken record is not reported with its field")
	}
	// Every document has only catalog fields of its dataset, typed right.
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		index, body, _ := strings.Cut(line, " ")
		ds := mapping.ProcessDataset
		if strings.Contains(index, mapping.APIDataset) {
			ds = mapping.APIDataset
		}
		for _, err := range cat.Validate(ds, []byte(body)) {
			t.Errorf("%s: %v", ds, err)
		}
	}
}

// TestRestartKeepsEnrichment splits the replay at every point, persisting the
// tracker between the halves as a restart does: the documents must equal an
// uninterrupted replay's.
func TestRestartKeepsEnrichment(t *testing.T) {
	recs := readRecords(t, "testdata/scenario.xml")
	whole, _ := mapAll(t, newMapper(tracker.New(tracker.Options{})), recs)
	for cut := 1; cut < len(recs); cut++ {
		tr := tracker.New(tracker.Options{})
		first, _ := mapAll(t, newMapper(tr), recs[:cut])
		var saved bytes.Buffer
		if err := tr.Save(&saved); err != nil {
			t.Fatal(err)
		}
		restarted := tracker.New(tracker.Options{})
		if err := restarted.Load(&saved); err != nil {
			t.Fatal(err)
		}
		second, _ := mapAll(t, newMapper(restarted), recs[cut:])
		if got := append(first, second...); !bytes.Equal(got, whole) {
			t.Fatalf("restart after record %d changes the documents", cut)
		}
	}
}

func TestEndCarriesStart(t *testing.T) {
	recs := readRecords(t, "testdata/scenario.xml")
	m := newMapper(tracker.New(tracker.Options{}))
	var start, end document.Document
	var doc document.Document
	for i := range recs {
		kind, _ := m.Map(&recs[i], &doc)
		if doc.Process.EntityID != "{8C5A2F71-0B12-65E7-2C04-000000003C00}" {
			continue
		}
		switch kind {
		case mapping.Start:
			start = doc
		case mapping.End:
			end = doc
		}
	}
	if end.Process.CommandLine == "" {
		t.Fatal("end event lost the start's command line")
	}
	s, e := start.Process, end.Process
	if e.Executable != s.Executable || strings.Join(e.Args, "|") != strings.Join(s.Args, "|") ||
		e.Parent.EntityID != s.Parent.EntityID || e.Parent.Executable != s.Parent.Executable ||
		e.Hash != s.Hash || e.Ext.Token.IntegrityLevelName != s.Ext.Token.IntegrityLevelName || strings.Join(e.Ext.Ancestry, "|") != strings.Join(s.Ext.Ancestry, "|") ||
		end.User != start.User {
		t.Errorf("end differs from start:\nstart %+v\nend   %+v", s, e)
	}
	if len(s.Ext.Ancestry) != 2 || s.Ext.Ancestry[0] != "{8C5A2F71-0B11-65E7-2B04-000000003C00}" {
		t.Errorf("ancestry %v", s.Ext.Ancestry)
	}
}

func TestUserIDNeverTheSysmonServiceSID(t *testing.T) {
	recs := readRecords(t, "testdata/scenario.xml")
	m := newMapper(tracker.New(tracker.Options{}))
	var doc document.Document
	for i := range recs {
		kind, _ := m.Map(&recs[i], &doc)
		if kind == mapping.None || recs[i].Provider != winevent.ProviderSysmon {
			continue
		}
		if doc.User.ID == "S-1-5-18" && !strings.EqualFold(doc.User.Name, "SYSTEM") {
			t.Errorf("record %d: user %s\\%s got the service SID", recs[i].RecordID, doc.User.Domain, doc.User.Name)
		}
		if doc.User.Name == "alice" && doc.User.ID != "S-1-5-21-1004336348-1177238915-682003330-1104" {
			t.Errorf("record %d: alice's SID %q was not learned from the Security log", recs[i].RecordID, doc.User.ID)
		}
	}
}

func TestEventIDDeterministic(t *testing.T) {
	recs := readRecords(t, "testdata/scenario.xml")
	a, _ := mapAll(t, newMapper(tracker.New(tracker.Options{})), recs)
	b, _ := mapAll(t, newMapper(tracker.New(tracker.Options{})), recs)
	if !bytes.Equal(a, b) {
		t.Fatal("two replays of the same records differ")
	}
	ids := map[string]bool{}
	var doc document.Document
	m := newMapper(tracker.New(tracker.Options{}))
	for i := range recs {
		if kind, err := m.Map(&recs[i], &doc); err != nil || kind == mapping.None {
			continue
		}
		if ids[doc.Event.ID] {
			t.Errorf("event.id %s repeats", doc.Event.ID)
		}
		ids[doc.Event.ID] = true
	}
}

func TestFieldErrorIsTyped(t *testing.T) {
	rec := winevent.Record{Provider: winevent.ProviderSecurity, EventID: 4689, Data: []winevent.Data{{Name: "ProcessId", Value: "0x10"}, {Name: "Status", Value: "bogus"}}}
	_, err := newMapper(tracker.New(tracker.Options{})).Map(&rec, &document.Document{})
	var fe *mapping.FieldError
	if !errors.As(err, &fe) || fe.Field != "Status" || fe.Value != "bogus" {
		t.Fatalf("got %v", err)
	}
}

// A GUID field that holds no GUID is refused, naming the field: as an
// entity id it would link every process whose record holds the same text.
func TestBadGUIDRefused(t *testing.T) {
	for _, c := range []struct {
		id    uint16
		field string
	}{{1, "ProcessGuid"}, {1, "ParentProcessGuid"}, {5, "ProcessGuid"}, {10, "SourceProcessGUID"}, {10, "TargetProcessGUID"}} {
		data := []winevent.Data{{Name: "ProcessId", Value: "10"}, {Name: "SourceProcessId", Value: "10"}, {Name: "TargetProcessId", Value: "11"},
			{Name: "UtcTime", Value: "2024-01-01 00:00:00.000"}, {Name: c.field, Value: "garbage"}}
		rec := winevent.Record{Provider: winevent.ProviderSysmon, EventID: c.id, Data: data}
		_, err := newMapper(tracker.New(tracker.Options{})).Map(&rec, &document.Document{})
		var fe *mapping.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || fe.Value != "garbage" {
			t.Errorf("event %d with %s garbage: %v", c.id, c.field, err)
		}
	}
}

// A hash that is not its algorithm's hex digits is refused as a bad GUID
// is, naming the field: "zz" in process.hash.md5 would pass for a hash.
// Sound values, of either case, map; a value refused is refused again
// (the cache of Hashes values keeps only sound ones).
// TestBadHashOmitted: a malformed Hashes value is reported, naming the
// field and the hash, and left out of a document that is still made,
// with the rest of the event and its place in the tree.
func TestBadHashOmitted(t *testing.T) {
	md5, sha1 := strings.Repeat("A", 32), strings.Repeat("b", 40)
	sha256, imp := strings.Repeat("C0", 32), strings.Repeat("d1", 16)
	sound := "SHA1=" + sha1 + ",MD5=" + md5 + ",SHA256=" + sha256 + ",IMPHASH=" + imp
	start := func(hashes string) *winevent.Record {
		return &winevent.Record{Provider: winevent.ProviderSysmon, EventID: 1, Data: []winevent.Data{
			{Name: "UtcTime", Value: "2024-01-01 00:00:00.000"}, {Name: "ProcessGuid", Value: "{8C5A2F71-0A4E-65E7-0000-001000000001}"},
			{Name: "ProcessId", Value: "10"}, {Name: "Image", Value: `C:\a.exe`}, {Name: "Hashes", Value: hashes}}}
	}
	m := newMapper(tracker.New(tracker.Options{}))
	var d document.Document
	if _, err := m.Map(start(sound), &d); err != nil {
		t.Fatalf("sound hashes: %v", err)
	}
	if d.Process.Hash.MD5 != strings.ToLower(md5) || d.Process.Hash.SHA1 != sha1 || d.Process.Hash.SHA256 != strings.ToLower(sha256) || d.Process.PE.Imphash != imp {
		t.Errorf("sound hashes mapped to %+v, imphash %q", d.Process.Hash, d.Process.PE.Imphash)
	}
	for _, c := range []struct{ value, alg string }{
		{"MD5=zz", "MD5"},
		{"MD5=" + md5[1:], "MD5"},
		{"MD5=" + md5 + "0", "MD5"},
		{"SHA1=" + sha1[:39] + "g", "SHA1"},
		{"SHA1=" + md5, "SHA1"},
		{"SHA256=" + sha1, "SHA256"},
		{"SHA256=" + sha256[:63] + " ", "SHA256"},
		{"IMPHASH=" + md5[:31] + "-", "IMPHASH"},
		{"MD5=" + md5 + ",IMPHASH=" + imp + "x", "IMPHASH"},
		{strings.Replace(sound, "MD5="+md5, "MD5=0x"+md5[2:], 1), "MD5"},
		{"md5 = xyz", "MD5"},
		{"garbage", `"garbage"`},
		{"MD5=" + md5 + ",SHA1" + sha1, `"SHA1` + sha1 + `"`},
	} {
		for range 2 {
			kind, err := m.Map(start(c.value), &d)
			var fe *mapping.FieldError
			if !errors.As(err, &fe) || fe.Field != "Hashes" || fe.Value != c.value || !strings.HasPrefix(fe.Err.Error(), c.alg+" ") {
				t.Errorf("Hashes %q: %v", c.value, err)
			}
			if !mapping.Omitted(err) || kind != mapping.Start {
				t.Errorf("Hashes %q: kind %v, omitted %v: want a start document made without them", c.value, kind, mapping.Omitted(err))
			}
			// The sound hashes of the value are kept, the bad one is not.
			want := winfmt.SplitHashes(c.value)
			bad := map[string]*string{"MD5": &want.MD5, "SHA1": &want.SHA1, "SHA256": &want.SHA256, "IMPHASH": &want.IMPHASH}
			if p := bad[c.alg]; p != nil {
				*p = ""
			}
			got := d.Process.Hash
			if got.MD5 != strings.ToLower(want.MD5) || got.SHA1 != strings.ToLower(want.SHA1) || got.SHA256 != strings.ToLower(want.SHA256) || d.Process.PE.Imphash != strings.ToLower(want.IMPHASH) {
				t.Errorf("Hashes %q: document has %+v, imphash %q; want the sound ones of %+v", c.value, got, d.Process.PE.Imphash, want)
			}
			if d.Process.EntityID == "" || d.Process.Executable != `C:\a.exe` || d.Event.ID == "" {
				t.Errorf("Hashes %q: the rest of the document is missing: %+v", c.value, d.Process)
			}
		}
	}
	// Absent values, all-zero ones (the IMPHASH of an image that is no
	// PE) and algorithms Sysmon may add are no error.
	for _, v := range []string{"", "-", "IMPHASH=" + strings.Repeat("0", 32), "MD5=" + md5 + ",SHA384=xyz", "MD5=" + md5 + ", ,"} {
		if _, err := m.Map(start(v), &d); err != nil {
			t.Errorf("Hashes %q: %v", v, err)
		}
	}
}

func BenchmarkMap(b *testing.B) {
	f, err := os.Open("testdata/scenario.xml")
	if err != nil {
		b.Fatal(err)
	}
	d := xmlevent.NewDecoder(f, "scenario.xml", decode.Options{})
	var recs []winevent.Record
	for d.Next() {
		r := *d.Record()
		r.Data = append([]winevent.Data(nil), r.Data...)
		recs = append(recs, r)
	}
	f.Close()
	m := newMapper(tracker.New(tracker.Options{}))
	var doc document.Document
	var buf []byte
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := range recs {
			if kind, err := m.Map(&recs[i], &doc); err == nil && kind != mapping.None {
				buf = doc.AppendJSON(buf[:0])
				n++
			}
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "docs/s")
}

// TestJSONExportMapsLikeXML: the same events exported by Winlogbeat (JSON)
// give the same documents as their rendered XML.
func TestJSONExportMapsLikeXML(t *testing.T) {
	recs := readWinlogbeatRecords(t, "testdata/scenario.winlogbeat.ndjson")
	got, _ := mapAll(t, newMapper(tracker.New(tracker.Options{})), recs)
	golden(t, "testdata/scenario.golden", got)
}
