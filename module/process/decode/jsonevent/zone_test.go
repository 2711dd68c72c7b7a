package jsonevent

import (
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/module/process/decode"
)

// TestZonelessTimes: a zone-less EventTime or TimeCreated is read in the
// zone the record's own @timestamp tells (keeping its precision), in
// Options.Location when set, and as UTC with one notice per file when
// nothing tells the zone.
func TestZonelessTimes(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	rec := func(local, stamp string) string {
		s := `{"EventID":4688,"SourceName":"Microsoft-Windows-Security-Auditing","EventTime":"` + local + `"`
		if stamp != "" {
			s += `,"@timestamp":"` + stamp + `"`
		}
		return s + "}\n"
	}
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name, local, stamp string
		loc                *time.Location
		want               string
		notice             bool
	}{
		// OTRF covenant_sharpsc_…json, pid 5764's 4688: UTC-4, shipped
		// 1.964 s later.
		{"NXLog and Logstash, UTC-4", "2020-08-06 01:21:18", "2020-08-06T05:21:19.964Z", nil, "2020-08-06T05:21:18Z", false},
		{"precision kept", "2020-10-19 03:30:46.251", "2020-10-19T07:30:47Z", nil, "2020-10-19T07:30:46.251Z", false},
		{"half-hour zone, UTC+5:30", "2020-01-01 10:30:00", "2020-01-01T05:00:30Z", nil, "2020-01-01T05:00:00Z", false},
		{"quarter-hour zone, UTC+12:45, over midnight", "2020-01-02 00:44:00", "2020-01-01T11:59:10Z", nil, "2020-01-01T11:59:00Z", false},
		{"UTC and no delay", "2020-01-01 10:00:00.5", "2020-01-01T10:00:00.5Z", nil, "2020-01-01T10:00:00.5Z", false},
		{"4m59s of shipping delay", "2020-01-01 06:00:00", "2020-01-01T10:04:59Z", nil, "2020-01-01T10:00:00Z", false},
		{"clocks 59s apart the other way", "2020-01-01 06:00:00", "2020-01-01T09:59:01Z", nil, "2020-01-01T10:00:00Z", false},
		{"10 minutes of delay tells no zone", "2020-01-01 06:00:00", "2020-01-01T10:10:00Z", nil, "2020-01-01T06:00:00Z", true},
		{"a stamp 2 minutes early tells no zone", "2020-01-01 06:00:00", "2020-01-01T09:58:00Z", nil, "2020-01-01T06:00:00Z", true},
		{"no zone beyond UTC+14", "2020-01-01 15:00:00", "2020-01-01T00:00:00Z", nil, "2020-01-01T15:00:00Z", true},
		{"a zone-less stamp tells nothing", "2020-01-01 06:00:00", "2020-01-01 10:00:00", nil, "2020-01-01T06:00:00Z", true},
		{"no stamp", "2020-01-01 06:00:00", "", nil, "2020-01-01T06:00:00Z", true},
		{"Location wins", "2020-07-01 06:00:00", "2020-07-01T07:00:00Z", ny, "2020-07-01T10:00:00Z", false},
		{"Location, no stamp, winter", "2020-01-01 06:00:00", "", ny, "2020-01-01T11:00:00Z", false},
		{"a time with a zone is taken as it is", "2020-01-01 06:00:00+02:00", "2020-01-01T10:00:00Z", nil, "2020-01-01T04:00:00Z", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var notes []string
			in := rec(c.local, c.stamp) + rec(c.local, c.stamp)
			recs, d := decodeAll(t, []byte(in), "x.json", decode.Options{Location: c.loc, Notice: func(m string) { notes = append(notes, m) }})
			if len(recs) != 2 || d.ErrorCount() != 0 {
				t.Fatalf("%d records, errors %v", len(recs), d.Errors())
			}
			if want := utc(c.want); !recs[0].TimeCreated.Equal(want) || !recs[1].TimeCreated.Equal(want) {
				t.Errorf("TimeCreated %v, want %v", recs[0].TimeCreated, want)
			}
			if !c.notice {
				if len(notes) != 0 {
					t.Errorf("notices %q", notes)
				}
				return
			}
			want := `x.json:1: record 1: EventTime "` + c.local + `" has no time zone and `
			if len(notes) != 1 || !strings.HasPrefix(notes[0], want) || !strings.Contains(notes[0], "read as UTC (set procbeat.timezone") {
				t.Errorf("notices %q, want one starting %q", notes, want)
			}
		})
	}
}

// TestZonelessTimesCostNoGarbage: deriving the zone from @timestamp costs
// no allocation beyond what decoding a record costs anyway.
func TestZonelessTimesCostNoGarbage(t *testing.T) {
	const line = `{"EventID":4688,"SourceName":"Microsoft-Windows-Security-Auditing","EventTime":"2020-08-06 01:21:18","@timestamp":"2020-08-06T05:21:19.964Z","NewProcessName":"C:\\x.exe"}` + "\n"
	d := NewDecoder(strings.NewReader(strings.Repeat(line, 2100)), "x", decode.Options{})
	d.Next() // warms the interned names and buffers
	allocs := testing.AllocsPerRun(2000, func() {
		if !d.Next() {
			t.Fatal(d.Errors())
		}
	})
	// The record's value string is the one allocation a record costs.
	if allocs > 1 {
		t.Errorf("%v allocations per record", allocs)
	}
}
