package evtx

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/Velocidex/ordereddict"
	vevtx "www.velocidex.com/golang/evtx"

	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/winevent"
)

type velocidexRecord struct {
	system, data *ordereddict.Dict
}

// velocidexEventData decodes a file with Velocidex/evtx and returns the
// System and EventData of every record by its System/EventRecordID (which
// the reader gives as the record id; Velocidex's header number differs from
// it in exported logs).
func velocidexEventData(tb testing.TB, path string) map[uint64]velocidexRecord {
	tb.Helper()
	fd, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fd.Close()
	chunks, err := vevtx.GetChunks(fd)
	if err != nil {
		tb.Fatalf("velocidex %s: %v", path, err)
	}
	out := map[uint64]velocidexRecord{}
	for _, c := range chunks {
		recs, _ := c.Parse(0)
		for _, r := range recs {
			ev, ok := r.Event.(*ordereddict.Dict)
			if !ok {
				continue
			}
			inner, _ := ev.Get("Event")
			evd, ok := inner.(*ordereddict.Dict)
			if !ok {
				continue
			}
			data, _ := evd.Get("EventData")
			sys, _ := evd.Get("System")
			d, _ := data.(*ordereddict.Dict)
			sd, _ := sys.(*ordereddict.Dict)
			if d != nil && sd != nil {
				id := r.Header.RecordID
				if v, ok := sd.Get("EventRecordID"); ok {
					if n, err := strconv.ParseUint(fmt.Sprint(v), 10, 64); err == nil {
						id = n
					}
				}
				out[id] = velocidexRecord{sd, d}
			}
		}
	}
	return out
}

// sameValue compares our rendering with Velocidex's typed value. Documented
// rendering differences only: Velocidex keeps integers (including hex ones)
// as numbers, GUIDs without braces, binary as bytes and string arrays as
// slices; we render them as Windows does.
func sameValue(ours string, theirs any) bool {
	switch t := theirs.(type) {
	case nil:
		return ours == ""
	case string:
		return ours == t || ours == "{"+t+"}"
	case uint8, uint16, uint32, uint64, int8, int16, int32, int64:
		s := fmt.Sprint(t)
		if ours == s {
			return true
		}
		if strings.HasPrefix(ours, "0x") {
			v, err := strconv.ParseUint(ours[2:], 16, 64)
			return err == nil && strconv.FormatUint(v, 10) == s
		}
		return false
	case []byte:
		return ours == fmt.Sprintf("%X", t)
	case []string:
		return ours == strings.Join(t, ",") || ours+"," == strings.Join(t, ",")
	case bool:
		return ours == strconv.FormatBool(t)
	}
	return ours == fmt.Sprint(theirs)
}

func isProcessEvent(r *winevent.Record) bool {
	switch r.Provider {
	case winevent.ProviderSysmon:
		return r.EventID == 1 || r.EventID == 5 || r.EventID == 10
	case winevent.ProviderSecurity:
		return r.EventID == 4688
	}
	return false
}

func TestDifferentialVelocidex(t *testing.T) {
	dir := corpus.Require(t)
	files, values, records := 0, 0, 0
	for _, e := range readManifest(t, dir) {
		if e.sysmon1+e.sysmon5+e.sysmon10+e.sec4688 == 0 {
			continue
		}
		path := filepath.Join(dir, e.path)
		theirs := velocidexEventData(t, path)
		r, err := Open(path, Options{Workers: 1, Filter: func(p string, id uint16) bool {
			return isProcessEvent(&winevent.Record{Provider: p, EventID: id})
		}})
		if err != nil {
			t.Fatal(err)
		}
		files++
		mismatches := 0
		for r.Next(context.Background()) {
			rec := r.Record()
			vr, ok := theirs[rec.RecordID]
			if !ok {
				t.Errorf("%s record %d: Velocidex has no EventData", e.path, rec.RecordID)
				continue
			}
			td := vr.data
			records++
			for _, f := range []struct {
				path []string
				ours string
			}{
				{[]string{"Provider", "Name"}, rec.Provider},
				{[]string{"EventID"}, fmt.Sprint(rec.EventID)},
				{[]string{"Channel"}, rec.Channel},
				{[]string{"Computer"}, rec.Computer},
				{[]string{"Security", "UserID"}, rec.UserID},
				{[]string{"Execution", "ProcessID"}, fmt.Sprint(rec.ProcessID)},
				{[]string{"Execution", "ThreadID"}, fmt.Sprint(rec.ThreadID)},
				// Velocidex gives FILETIME as float seconds since 1970.
			} {
				// Velocidex leaves absent attributes out (we give ""), and
				// turns an element with attributes into a dict whose text
				// is "Value".
				v, _ := dictPath(vr.system, f.path...)
				if dd, isDict := v.(*ordereddict.Dict); isDict {
					v, _ = dd.Get("Value")
				}
				if !sameValue(f.ours, v) {
					mismatches++
					t.Errorf("%s record %d System/%s: ours %q, Velocidex %#v", e.path, rec.RecordID, strings.Join(f.path, "/"), f.ours, v)
				}
			}
			// Velocidex gives FILETIME as float seconds since 1970, which
			// loses the last digits: compare to the millisecond.
			vt, _ := dictPath(vr.system, "TimeCreated", "SystemTime")
			if fl, ok := vt.(float64); !ok || math.Abs(fl-float64(rec.TimeCreated.UnixNano())/1e9) > 0.002 {
				mismatches++
				t.Errorf("%s record %d TimeCreated: ours %v, Velocidex %v", e.path, rec.RecordID, rec.TimeCreated, vt)
			}
			if len(rec.Data) != td.Len() {
				t.Errorf("%s record %d: %d data items, Velocidex %d", e.path, rec.RecordID, len(rec.Data), td.Len())
			}
			for _, d := range rec.Data {
				values++
				tv, ok := td.Get(d.Name)
				if !ok || !sameValue(d.Value, tv) {
					mismatches++
					if mismatches <= 5 {
						t.Errorf("%s record %d (%s %d) %s: ours %q, Velocidex %#v", e.path, rec.RecordID, rec.Provider, rec.EventID, d.Name, d.Value, tv)
					}
				}
			}
		}
		r.Close()
	}
	if records == 0 {
		t.Fatal("no process events compared")
	}
	t.Logf("compared System fields and %d EventData values of %d process events in %d files", values, records, files)
}

// dictPath follows keys through nested ordered dicts.
func dictPath(d *ordereddict.Dict, keys ...string) (any, bool) {
	var v any = d
	for _, k := range keys {
		dd, ok := v.(*ordereddict.Dict)
		if !ok {
			return nil, false
		}
		if v, ok = dd.Get(k); !ok {
			return nil, false
		}
	}
	return v, true
}
