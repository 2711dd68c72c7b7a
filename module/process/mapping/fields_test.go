package mapping

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/module/process/winfmt"
	"github.com/procbeat/procbeat/winevent"
)

// The reference of fields is what they replaced (issue 17): Record.Get by
// name for each value, strings.TrimSpace and strings.ToUpper. Reading
// through the layouts must give the same values for every record, whether
// the layout was made for it or kept from records before.

// fieldsReference reads a value as the mapping did before layouts.
func fieldsReference(rec *winevent.Record, k field) (raw, id, guid string) {
	raw, _ = rec.Get(fieldNames[k])
	id = winfmt.Present(strings.TrimSpace(raw))
	return raw, id, strings.ToUpper(id)
}

// isGUIDReference is isGUID by regular expression.
func isGUIDReference(s string) bool {
	return regexp.MustCompile(`^\{[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}$`).MatchString(s)
}

// recordOf builds a record whose data names are picked by the bytes of
// spec from a pool of field names, other names and near misses, with
// values made of the rest.
func recordOf(spec []byte, values string) winevent.Record {
	pool := []string{"Image", "ProcessId", "ProcessGuid", "CommandLine", "User", "UtcTime", "Hashes", "ParentImage",
		"RuleName", "", "image", "ProcessID", "SubjectUserSid", "TargetUserSid", "NewProcessId", "Imagf", "X"}
	var rec winevent.Record
	vals := strings.Split(values, ",")
	for i, b := range spec {
		v := ""
		if len(vals) > 0 {
			v = vals[i%len(vals)]
		}
		// Fresh copies of the names: readers may or may not intern them.
		name := pool[int(b)%len(pool)]
		if b >= 128 {
			name = strings.Clone(name)
		}
		rec.Data = append(rec.Data, winevent.Data{Name: name, Value: v})
	}
	return rec
}

func checkFields(t *testing.T, m *Mapper, rec *winevent.Record) {
	t.Helper()
	f := m.fieldsOf(rec)
	for k := range numFields {
		raw, id, guid := fieldsReference(rec, k)
		if got := f.raw(k); got != raw {
			t.Fatalf("%v: raw(%s) = %q, want %q", rec.Data, k, got, raw)
		}
		if got := f.id(k); got != id {
			t.Fatalf("%v: id(%s) = %q, want %q", rec.Data, k, got, id)
		}
		got, err := f.guid(k)
		if !isGUIDReference(guid) && guid != "" {
			// Not a GUID: refused, naming the field.
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != fieldNames[k] || got != "" {
				t.Fatalf("%v: guid(%s) = %q, %v; want an error naming the field", rec.Data, k, got, err)
			}
		} else if err != nil || got != guid {
			t.Fatalf("%v: guid(%s) = %q, %v; want %q", rec.Data, k, got, err, guid)
		}
	}
}

func TestFieldsAsGet(t *testing.T) {
	m := New(nil, Options{})
	specs := [][]byte{
		{0, 1, 2, 3, 4, 5, 6, 7},
		{0, 1, 2, 3, 4, 5, 6, 7},                 // the same layout again
		{128, 129, 130, 131, 132, 133, 134, 135}, // same names, other strings
		{0, 0, 1, 1},                             // duplicates: the first wins
		{10, 11, 15, 16, 9},                      // near misses
		{},
		{1, 0, 2, 3, 4, 5, 6, 7}, // same length, other order
	}
	for _, spec := range specs {
		rec := recordOf(spec, " 12 ,{4e2a-ab},x,-,  ,<unknown process>,?, ?,\t0x3E7\n,é")
		checkFields(t, m, &rec)
	}
	// More templates than the Mapper keeps, round and round.
	for round := 0; round < 3; round++ {
		for n := 0; n < maxLayouts+3; n++ {
			spec := make([]byte, n+1)
			for i := range spec {
				spec[i] = byte(i + n)
			}
			rec := recordOf(spec, "a,B,c")
			checkFields(t, m, &rec)
		}
	}
	// Past what a layout holds.
	long := make([]byte, maxLayoutNames+40)
	for i := range long {
		long[i] = 9 // unnamed
	}
	long[3], long[maxLayoutNames+10] = 1, 0 // ProcessId early, Image late
	rec := recordOf(long, "7,x")
	checkFields(t, m, &rec)
}

func FuzzFieldsAsGet(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, []byte{3, 2, 1, 0}, " 12 ,{4e2a-ab},x,-")
	f.Add([]byte{0, 0, 128}, []byte{128, 0, 0}, "<unknown process>,?, ?,\t0x3E7\n,é")
	f.Fuzz(func(t *testing.T, a, b []byte, values string) {
		m := New(nil, Options{})
		for _, spec := range [][]byte{a, b, a, b} {
			rec := recordOf(spec, values)
			checkFields(t, m, &rec)
		}
	})
}

// TestLowerHashKept: hashes kept from earlier documents are the right
// ones, whatever slots they share.
func TestLowerHashKept(t *testing.T) {
	m := New(nil, Options{})
	var vals []string
	for i := 0; i < 500; i++ {
		vals = append(vals, strings.ToUpper(fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15)))
	}
	vals = append(vals, "already lower", "MiXeD", "")
	for round := 0; round < 3; round++ {
		for i := range vals {
			v := vals[(i*7+round)%len(vals)]
			want := v
			if winfmt.HashNeedsLower(v) {
				want = strings.ToLower(v)
			}
			if got := m.lowerHash(v); got != want {
				t.Fatalf("lowerHash(%q) = %q, want %q", v, got, want)
			}
		}
	}
}

func TestIsGUID(t *testing.T) {
	for _, s := range []string{
		"{8C5A2F71-0B12-65E7-2C04-000000003C00}", "{8c5a2f71-0b12-65e7-2c04-000000003c00}",
		"{8C5A2F71-0B12-65E7-2C04-0000-0003C00}", "{8C5A2F71-0B12-65E7-2C04-000000003C0G}",
		"{8C5A2F71+0B12-65E7-2C04-000000003C00}", "8C5A2F71-0B12-65E7-2C04-000000003C00",
		"{8C5A2F71-0B12-65E7-2C04-000000003C00", "{8C5A2F71-0B12-65E7-2C04-000000003C:0}",
		"{8C5A2F71-0B12-65E7-2C04-000000003C@0}", "{8C5A2F71-0B12-65E7-2C04-000000003C`0}",
		"{8C5A2F71-0B12-65E7-2C04-000000003C/0}", "{GARBAGEX-0B12-65E7-2C04-000000003C00}", "",
	} {
		if got, want := isGUID(s), isGUIDReference(s); got != want {
			t.Errorf("isGUID(%q) = %v, want %v", s, got, want)
		}
	}
}
