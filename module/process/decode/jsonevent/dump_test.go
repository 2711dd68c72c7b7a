package jsonevent

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/decode/xmlevent"
	"github.com/procbeat/procbeat/winevent"
)

// TestDumpLayoutMatchesXML: testdata/sample.dump.ndjson holds the records
// of the repository's sample.xml in the form of evtx dump --format json;
// they decode to the records xmlevent reads from the XML, header, data
// and order alike. (cmd/procbeat's TestReplayEVTXDumpJSON checks the dump
// writer itself against replaying the EVTX files it dumps.)
func TestDumpLayoutMatchesXML(t *testing.T) {
	recs, d := decodeAll(t, readFile(t, "testdata/sample.dump.ndjson"), "sample.dump.ndjson", decode.Options{})
	if d.ErrorCount() != 0 {
		t.Fatalf("errors: %v", d.Errors())
	}
	f, err := os.Open("../../../../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x := xmlevent.NewDecoder(f, "sample.xml", decode.Options{})
	var want []winevent.Record
	for x.Next() {
		r := *x.Record()
		r.Data = append([]winevent.Data(nil), r.Data...)
		want = append(want, r)
	}
	if x.Err() != nil || x.ErrorCount() != 0 || len(want) == 0 {
		t.Fatalf("sample.xml: %v %v", x.Err(), x.Errors())
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, the XML has %d", len(recs), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(recs[i], want[i]) {
			t.Errorf("record %d\n got %+v\nwant %+v", i+1, recs[i], want[i])
		}
	}
}

// pair is a winevent.Data the tables spell without keys.
type pair [2]string

func pairs(ds []winevent.Data) []pair {
	out := make([]pair, len(ds))
	for i, d := range ds {
		out[i] = pair{d.Name, d.Value}
	}
	return out
}

// TestDumpLayoutForms: the dump's records in the forms JSON allows (keys
// in another order, pretty-printed, escapes, values that are not
// strings), and what is not the dump's form.
func TestDumpLayoutForms(t *testing.T) {
	const head = `{"Provider":"Microsoft-Windows-Sysmon","EventID":1,"Version":5,"RecordID":7,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1","TimeCreated":"2024-03-05T14:22:31.1251392Z","UserID":"S-1-5-18","ProcessID":2840,"ThreadID":3512,"Data":`
	for _, c := range []struct {
		name, in string
		data     []pair // want, when the record decodes
		field    string // want, when it does not
		err      error
	}{
		{name: "as written", in: head + `[{"Name":"Image","Value":"C:\\a.exe"},{"Name":"","Value":"x"}]}`,
			data: []pair{{"Image", `C:\a.exe`}, {"", "x"}}},
		{name: "empty", in: head + `[]}`},
		{name: "value first, white space, escapes", in: head + "[ {\n \"Value\" : \"a\\u00e9\\\"\" , \"Name\" : \"Im\\u0061ge\" } ,{\"Name\":\"Dotted.Name\",\"Value\":\"\"}\n]}",
			data: []pair{{"Image", `aé"`}, {"Dotted.Name", ""}}},
		{name: "numbers, booleans and null", in: head + `[{"Name":"N","Value":42},{"Name":"B","Value":true},{"Name":"Z","Value":null}]}`,
			data: []pair{{"N", "42"}, {"B", "true"}, {"Z", ""}}},
		{name: "Data before the header", in: `{"Data":[{"Name":"Image","Value":"a"}],` + head[1:] + `[]}`,
			data: []pair{{"Image", "a"}}},
		{name: "a third key", in: head + `[{"Name":"Image","Value":"a","Type":"string"}]}`, field: "Data", err: errDumpData},
		{name: "no value", in: head + `[{"Name":"Image"}]}`, field: "Data", err: errDumpData},
		{name: "a name twice", in: head + `[{"Name":"Image","Name":"X","Value":"a"}]}`, field: "Data", err: errDumpData},
		{name: "a nested value", in: head + `[{"Name":"Image","Value":["a"]}]}`, field: "Data", err: errDumpData},
		{name: "not objects", in: head + `["a","b"]}`, field: "Data", err: errDumpData},
		{name: "bad time", in: strings.Replace(head, "2024-03-05T14:22:31.1251392Z", "yesterday", 1) + `[]}`, field: "TimeCreated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs, d := decodeAll(t, []byte(c.in), "d.json", decode.Options{})
			if c.field != "" {
				if len(recs) != 0 || d.ErrorCount() != 1 || d.Errors()[0].Field != c.field || (c.err != nil && !errors.Is(d.Errors()[0], c.err)) {
					t.Fatalf("records %+v, errors %v; want an error in field %s", recs, d.Errors(), c.field)
				}
				return
			}
			if d.ErrorCount() != 0 || len(recs) != 1 {
				t.Fatalf("records %+v, errors %v", recs, d.Errors())
			}
			r := recs[0]
			if r.Provider != winevent.ProviderSysmon || r.EventID != 1 || r.Version != 5 || r.RecordID != 7 ||
				r.Channel != winevent.ChannelSysmon || r.Computer != "ws1" || r.UserID != "S-1-5-18" ||
				r.ProcessID != 2840 || r.ThreadID != 3512 || !r.TimeCreated.Equal(time.Date(2024, 3, 5, 14, 22, 31, 125139200, time.UTC)) {
				t.Errorf("header %+v", r)
			}
			if got := pairs(r.Data); len(got) != len(c.data) || len(c.data) > 0 && !reflect.DeepEqual(got, c.data) {
				t.Errorf("data %q, want %q", r.Data, c.data)
			}
		})
	}
}

// TestDumpPairsAreNotOtherLayoutsData: a top-level Data array of pairs is
// the dump's; in a Winlogbeat record it is not event data, and a flat
// record's "Data" string stays the flat layout's event data.
func TestDumpPairsAreNotOtherLayoutsData(t *testing.T) {
	in := `{"winlog":{"provider_name":"Microsoft-Windows-Sysmon","event_id":1,"event_data":{"Image":"a"}},"Data":[{"Name":"@timestamp","Value":"x"}]}` + "\n" +
		`{"SourceName":"Microsoft-Windows-Sysmon","EventID":1,"Data":"text"}` + "\n"
	recs, d := decodeAll(t, []byte(in), "o.json", decode.Options{})
	if d.ErrorCount() != 0 || len(recs) != 2 ||
		!reflect.DeepEqual(pairs(recs[0].Data), []pair{{"Image", "a"}}) || !recs[0].TimeCreated.IsZero() ||
		!reflect.DeepEqual(pairs(recs[1].Data), []pair{{"Data", "text"}}) {
		t.Fatalf("records %+v, errors %v", recs, d.Errors())
	}
}

// TestDumpErrorLine: the dump writes the damage it met as {"error": ...}
// lines; replaying the dump reports each, with the dump's
// words, as replaying the EVTX reports the damage.
func TestDumpErrorLine(t *testing.T) {
	in := `{"error":"x.evtx: chunk 3: bad magic"}` + "\n" + `{"error":42}` + "\n"
	_, d := decodeAll(t, []byte(in), "x.json", decode.Options{})
	if d.ErrorCount() != 2 ||
		d.Errors()[0].Error() != "x.json:1: record 1: an error line of procbeat evtx dump: x.evtx: chunk 3: bad magic" ||
		!errors.Is(d.Errors()[1], errNoEventID) {
		t.Fatalf("errors %v", d.Errors())
	}
}

// TestProcessEventWithoutProvider: a record with a process event's id
// whose provider the decoder did not find (an unknown key, or none) is
// reported, naming the file, the record and the key looked for, rather
// than passed on to be counted as not a process event; records that are
// another log's, or no process event, pass as before.
func TestProcessEventWithoutProvider(t *testing.T) {
	for _, c := range []struct {
		name, in string
		field    string // "": no error
	}{
		{"flat, Sysmon channel", `{"EventID":1,"Provider_Name":"Microsoft-Windows-Sysmon","Channel":"Microsoft-Windows-Sysmon/Operational","Image":"a"}`, "SourceName"},
		{"flat, no channel", `{"EventID":4688,"NewProcessName":"a"}`, "SourceName"},
		{"flat, Security in lower case", `{"EventID":4689,"Channel":"security"}`, "SourceName"},
		{"dump, no Provider", `{"Source":"Microsoft-Windows-Sysmon","EventID":10,"Data":[{"Name":"TargetImage","Value":"a"}]}`, "Provider"},
		{"Winlogbeat 7", `{"winlog":{"event_id":5,"channel":"Microsoft-Windows-Sysmon/Operational"}}`, "winlog.provider_name"},
		{"Winlogbeat 6", `{"event_id":4688,"log_name":"Security"}`, "source_name"},
		{"another channel's event 1", `{"EventID":1,"Channel":"System"}`, ""},
		{"a Security event that is no process event", `{"EventID":4624,"Channel":"Security"}`, ""},
		{"Sysmon 1 with its provider", `{"EventID":1,"SourceName":"Microsoft-Windows-Sysmon"}`, ""},
		{"another provider's event 1", `{"EventID":1,"SourceName":"Microsoft-Windows-Kernel-General","Channel":"System"}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := `{"EventID":7,"SourceName":"S"}` + "\n" + c.in + "\n"
			recs, d := decodeAll(t, []byte(in), "p.json", decode.Options{})
			if c.field == "" {
				if d.ErrorCount() != 0 || len(recs) != 2 {
					t.Fatalf("records %+v, errors %v", recs, d.Errors())
				}
				return
			}
			if len(recs) != 1 || d.ErrorCount() != 1 {
				t.Fatalf("records %+v, errors %v", recs, d.Errors())
			}
			e := d.Errors()[0]
			if !errors.Is(e, ErrNoProvider) || e.File != "p.json" || e.Line != 2 || e.Index != 2 || e.Field != c.field ||
				!strings.HasPrefix(e.Error(), "p.json:2: record 2: field "+c.field+": no provider name in a record read as of layout ") {
				t.Fatalf("error %v (field %q)", e, e.Field)
			}
		})
	}
}

// TestDumpCostsNoMoreGarbage: a dump record costs the one allocation a
// record of the other layouts costs, its string of values.
func TestDumpCostsNoMoreGarbage(t *testing.T) {
	lines := readFile(t, "testdata/sample.dump.ndjson")
	d := NewDecoder(bytes.NewReader(bytes.Repeat(lines, 40)), "a", decode.Options{})
	for range 20 { // warms the interned names and buffers
		d.Next()
	}
	allocs := testing.AllocsPerRun(500, func() {
		if !d.Next() {
			t.Fatal(d.Errors())
		}
	})
	if allocs > 1 {
		t.Errorf("%v allocations per record", allocs)
	}
}
