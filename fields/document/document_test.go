package document_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/fields/document"
)

// fill sets every leaf of v (walking the generated structs by reflection,
// which is fine in a test) to a value of the right type.
func fill(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		switch x := v.Addr().Interface().(type) {
		case *time.Time:
			*x = time.Date(2024, 3, 5, 14, 22, 31, 123e6, time.UTC)
		case *document.Long:
			*x = document.LongOf(0)
		case *document.Ulong:
			*x = document.UlongOf(1)
		case *document.Double:
			*x = document.DoubleOf(1.5)
		case *document.Bool:
			*x = document.BoolOf(false)
		case *document.RawObject:
			*x = document.NewRawObject(map[string]string{"case": "v\"\\\x01\xff", "analyst": "b"})
		default:
			for i := 0; i < v.NumField(); i++ {
				fill(t, v.Field(i))
			}
		}
	case reflect.String:
		v.SetString("v\"\\\x01\xff")
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			v.Set(reflect.ValueOf([]string{"a", "b"}))
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fill(t, s.Index(0))
		v.Set(s)
	default:
		t.Fatalf("unexpected kind %s", v.Kind())
	}
}

func TestFullDocumentCoversCatalog(t *testing.T) {
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	var d document.Document
	fill(t, reflect.ValueOf(&d).Elem())
	raw := d.AppendJSON(nil)
	if !json.Valid(raw) {
		t.Fatalf("invalid JSON: %s", raw)
	}
	// host.ip got "v\"..." which is not an IP: the only expected error.
	for _, err := range cat.Validate("", raw) {
		if !strings.HasPrefix(err.Error(), "host.ip:") {
			t.Errorf("generated document emits a non-catalog shape: %v", err)
		}
	}
	var back map[string]any
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	// Every catalog leaf appears in the encoded document.
	for i := range cat.Fields {
		f := &cat.Fields[i]
		if f.IsContainer() {
			continue
		}
		if _, ok := cat.Container(f.Name); ok {
			continue
		}
		if !has(back, f.Name) {
			t.Errorf("%s: never emitted by the generated type", f.Name)
		}
	}
	// Labels, encoded once, are spliced in as a valid object.
	if l, _ := back["labels"].(map[string]any); l["case"] != "v\"\\\x01\uFFFD" || l["analyst"] != "b" {
		t.Errorf("labels round trip: %v", back["labels"])
	}
	// Values survive escaping: the invalid byte becomes U+FFFD.
	if got := back["message"]; got != "v\"\\\x01\uFFFD" {
		t.Errorf("message round trip: %q", got)
	}
	// The second nested element was left empty and must not appear.
	sigs := back["process"].(map[string]any)["Ext"].(map[string]any)["code_signature"].([]any)
	if len(sigs) != 1 {
		t.Errorf("empty nested element emitted: %v", sigs)
	}
}

func has(m map[string]any, name string) bool {
	segs := strings.Split(name, ".")
	for i, s := range segs {
		v, ok := m[s]
		if !ok {
			return false
		}
		if i == len(segs)-1 {
			return true
		}
		if m, ok = v.(map[string]any); !ok {
			return false
		}
	}
	return false
}

func TestAbsentFieldsAreLeftOut(t *testing.T) {
	var d document.Document
	if got := string(d.AppendJSON(nil)); got != "{}" {
		t.Errorf("empty document: %s", got)
	}
	d.Process.ExitCode = document.LongOf(0)
	d.Process.Parent.Name = "explorer.exe"
	got := string(d.AppendJSON([]byte("prefix ")))
	want := `prefix {"process":{"exit_code":0,"parent":{"name":"explorer.exe"}}}`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	d := document.Document{Timestamp: time.Now(), Message: "Process start: C:\\Windows\\System32\\cmd.exe"}
	d.Event.Category = []string{"process"}
	d.Event.Type = []string{"start"}
	d.Event.Action = "start"
	d.Process.PID = document.LongOf(4312)
	d.Process.Executable = `C:\Windows\System32\cmd.exe`
	d.Process.CommandLine = `"C:\Windows\System32\cmd.exe" /c whoami`
	d.Process.Args = []string{`C:\Windows\System32\cmd.exe`, "/c", "whoami"}
	d.Process.Parent.Name = "explorer.exe"
	d.User.Name = "alice"
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = d.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAppendTime(b *testing.B) {
	t := time.Date(2026, 11, 27, 15, 4, 5, 123456789, time.UTC)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = document.AppendTime(buf[:0], t)
	}
}

// Values the generated encoder matches as constants (tools/gendocument's
// frequentValues) and values near them, which take the escaping path,
// encode alike: as encoding/json reads them back.
func TestFrequentValuesEncodeAsOthers(t *testing.T) {
	for _, v := range []string{"event", "even", "events", "Event", "event\"", "endpoint.events.process", "endpoint.events.proces"} {
		var d document.Document
		d.Event.Kind = v
		d.Event.Category = []string{v}
		d.Event.Type = []string{v, "start"}
		d.DataStream.Dataset = v
		var back struct {
			Event struct {
				Kind     string
				Category []string
				Type     []string
			}
			DataStream struct {
				Dataset string
			} `json:"data_stream"`
		}
		raw := d.AppendJSON(nil)
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("%q: %s: %v", v, raw, err)
		}
		if back.Event.Kind != v || len(back.Event.Category) != 1 || back.Event.Category[0] != v ||
			len(back.Event.Type) != 2 || back.Event.Type[0] != v || back.Event.Type[1] != "start" || back.DataStream.Dataset != v {
			t.Errorf("%q: %s", v, raw)
		}
	}
	var d document.Document
	d.Event.Kind = "event"
	d.Event.Category = []string{"process"}
	if got, want := string(d.AppendJSON(nil)), `{"event":{"category":["process"],"kind":"event"}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// A date equal to the one before it in its object is copied from that
// one's text: equal instants in other zones copy, others are formatted.
func TestEqualDatesShareText(t *testing.T) {
	at := time.Date(2026, 11, 27, 21, 30, 0, 123456789, time.UTC)
	east := time.FixedZone("east", 3600)
	for _, c := range []struct {
		created, ingested time.Time
		want              string
	}{
		{at, at, `{"event":{"created":"2026-11-27T21:30:00.123Z","ingested":"2026-11-27T21:30:00.123Z"}}`},
		{at, at.In(east), `{"event":{"created":"2026-11-27T21:30:00.123Z","ingested":"2026-11-27T21:30:00.123Z"}}`},
		{at, at.Add(time.Millisecond), `{"event":{"created":"2026-11-27T21:30:00.123Z","ingested":"2026-11-27T21:30:00.124Z"}}`},
		{at, at.Add(time.Nanosecond), `{"event":{"created":"2026-11-27T21:30:00.123Z","ingested":"2026-11-27T21:30:00.123Z"}}`},
		{time.Time{}, at, `{"event":{"ingested":"2026-11-27T21:30:00.123Z"}}`},
		{at, time.Time{}, `{"event":{"created":"2026-11-27T21:30:00.123Z"}}`},
	} {
		var d document.Document
		d.Event.Created, d.Event.Ingested = c.created, c.ingested
		if got := string(d.AppendJSON([]byte("x"))); got != "x"+c.want {
			t.Errorf("%v, %v: got %s, want %s", c.created, c.ingested, got, c.want)
		}
	}
}
