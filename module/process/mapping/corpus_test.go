package mapping_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/evtx"
	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/decode/jsonevent"
	"github.com/procbeat/procbeat/module/process/decode/xmlevent"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/module/process/winfmt"
	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/winevent"
)

// corpusFiles lists the corpus's .evtx and JSON files, sorted.
func corpusFiles(t *testing.T, dir string, exts ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, e := range exts {
			if !d.IsDir() && strings.HasSuffix(p, e) {
				out = append(out, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatalf("no %v files in %s", exts, dir)
	}
	return out
}

// corpusRecords calls fn with every process record of a corpus file, in
// file order, as the reader for its format decodes it.
func corpusRecords(t *testing.T, path string, fn func(*winevent.Record)) {
	t.Helper()
	if strings.HasSuffix(path, ".evtx") {
		r, err := evtx.Open(path, evtx.Options{Workers: 1, Filter: mapping.Wants})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for r.Next(context.Background()) {
			fn(r.Record())
		}
		if err := r.Err(); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := jsonevent.NewDecoder(f, path, decode.Options{})
	for d.Next() {
		if rec := d.Record(); mapping.Wants(rec.Provider, rec.EventID) {
			fn(rec)
		}
	}
	if err := d.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func corpusMapper(tr *tracker.Tracker) *mapping.Mapper {
	return mapping.New(tr, mapping.Options{Now: time.Now})
}

// TestCorpusValuesVerbatim maps every process record of the corpus (EVTX
// and JSON files, one tracker as a directory replay shares it) and checks
// each document: the command lines of Sysmon 1 and Security 4688 equal the
// record's raw CommandLine (and Sysmon's ParentCommandLine) byte for byte;
// no process or parent field holds a Sysmon placeholder; host.id and
// event.ingested are set.
func TestCorpusValuesVerbatim(t *testing.T) {
	dir := corpus.Require(t)
	m := corpusMapper(tracker.New(tracker.Options{}))
	var doc document.Document
	starts, padded, docs := 0, 0, 0
	for _, path := range corpusFiles(t, dir, ".evtx", ".json") {
		rel, _ := filepath.Rel(dir, path)
		corpusRecords(t, path, func(rec *winevent.Record) {
			kind, err := m.Map(rec, &doc)
			if err != nil || kind == mapping.None {
				return
			}
			docs++
			where := rel + " record " + strconv.FormatUint(rec.RecordID, 10)
			if rec.EventID == 1 || rec.EventID == 4688 {
				starts++
				raw, _ := rec.Get("CommandLine")
				if want := winfmt.Present(raw); want != doc.Process.CommandLine {
					t.Errorf("%s: process.command_line %q, record says %q", where, doc.Process.CommandLine, raw)
				}
				if strings.TrimSpace(raw) != raw {
					padded++
				}
				if rec.EventID == 1 {
					raw, _ := rec.Get("ParentCommandLine")
					if !winfmt.IsAbsent(raw) && raw != doc.Process.Parent.CommandLine {
						t.Errorf("%s: process.parent.command_line %q, record says %q", where, doc.Process.Parent.CommandLine, raw)
					}
				}
			}
			p := &doc.Process
			for name, v := range map[string]string{
				"process.executable": p.Executable, "process.name": p.Name, "process.command_line": p.CommandLine,
				"process.parent.executable": p.Parent.Executable, "process.parent.name": p.Parent.Name,
				"process.parent.command_line": p.Parent.CommandLine, "Target.process.executable": doc.Target.Process.Executable,
				"Target.process.name": doc.Target.Process.Name, "user.name": doc.User.Name,
			} {
				if v == "?" || v == "<unknown process>" {
					t.Errorf("%s: %s is the placeholder %q", where, name, v)
				}
			}
			for _, a := range append(p.Args, p.Parent.Args...) {
				if a == "?" || a == "<unknown process>" {
					t.Errorf("%s: an argument is the placeholder %q", where, a)
				}
			}
			if doc.Host.ID == "" {
				t.Errorf("%s: no host.id", where)
			}
			if doc.Event.Ingested.IsZero() || !doc.Event.Ingested.Equal(doc.Event.Created) {
				t.Errorf("%s: event.ingested %v, event.created %v", where, doc.Event.Ingested, doc.Event.Created)
			}
		})
	}
	if starts < 1000 {
		t.Fatalf("only %d start records: the corpus is not what this test expects", starts)
	}
	if padded == 0 {
		t.Error("no command line with surrounding white space: the verbatim check proves nothing")
	}
	t.Logf("%d documents, %d start records, %d command lines with surrounding white space kept", docs, starts, padded)
}

// eventIDs maps records with a fresh tracker and returns the event.ids.
func eventIDs(t *testing.T, recs func(func(*winevent.Record))) map[string]int {
	t.Helper()
	m := corpusMapper(tracker.New(tracker.Options{}))
	var doc document.Document
	ids := map[string]int{}
	recs(func(rec *winevent.Record) {
		if kind, err := m.Map(rec, &doc); err == nil && kind != mapping.None {
			ids[doc.Event.ID]++
		}
	})
	return ids
}

func sameIDs(t *testing.T, what string, a, b map[string]int) {
	t.Helper()
	if len(a) == 0 {
		t.Errorf("%s: no documents", what)
	}
	for id, n := range a {
		if b[id] != n {
			t.Errorf("%s: event.id %s %d times in one, %d in the other", what, id, n, b[id])
		}
	}
	for id, n := range b {
		if _, ok := a[id]; !ok {
			t.Errorf("%s: event.id %s (%d times) only in the other", what, id, n)
		}
	}
}

// TestCorpusEventIDsAcrossFormats replays every EVTX file of the corpus
// that holds process events directly and as the XML `procbeat evtx dump
// --format xml` prints for it: the two give the same event.ids.
func TestCorpusEventIDsAcrossFormats(t *testing.T) {
	dir := corpus.Require(t)
	files, docs := 0, 0
	for _, path := range corpusFiles(t, dir, ".evtx") {
		rel, _ := filepath.Rel(dir, path)
		direct := eventIDs(t, func(fn func(*winevent.Record)) { corpusRecords(t, path, fn) })
		if len(direct) == 0 {
			continue
		}
		var xml bytes.Buffer
		if err := evtx.Dump(context.Background(), &xml, path, "xml"); err != nil {
			t.Fatalf("%s: dump: %v", rel, err)
		}
		rendered := eventIDs(t, func(fn func(*winevent.Record)) {
			d := xmlevent.NewDecoder(bytes.NewReader(xml.Bytes()), rel+".xml", decode.Options{})
			for d.Next() {
				fn(d.Record())
			}
			if err := d.Err(); err != nil {
				t.Fatalf("%s: XML: %v", rel, err)
			}
		})
		sameIDs(t, rel, direct, rendered)
		for id, n := range direct {
			if n > 1 {
				t.Errorf("%s: event.id %s given to %d records", rel, id, n)
			}
		}
		files++
		docs += len(direct)
	}
	if files < 100 {
		t.Fatalf("only %d EVTX files with process events compared", files)
	}
	t.Logf("%d EVTX files, %d event.ids, equal as .evtx and as dumped XML", files, docs)
}

// TestWinlogbeatExportSameEventIDs: the scenario's events exported by
// Winlogbeat (JSON, milliseconds only in @timestamp) get the same event.ids
// as their rendered XML.
func TestWinlogbeatExportSameEventIDs(t *testing.T) {
	xmlRecs := readRecords(t, "testdata/scenario.xml")
	jsonRecs := readWinlogbeatRecords(t, "testdata/scenario.winlogbeat.ndjson")
	each := func(recs []winevent.Record) func(func(*winevent.Record)) {
		return func(fn func(*winevent.Record)) {
			for i := range recs {
				fn(&recs[i])
			}
		}
	}
	sameIDs(t, "scenario", eventIDs(t, each(xmlRecs)), eventIDs(t, each(jsonRecs)))
}
