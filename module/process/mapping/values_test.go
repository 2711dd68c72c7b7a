package mapping_test

import (
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/winevent"
)

func sysmon(id uint16, recordID uint64, at time.Time, kv ...string) *winevent.Record {
	r := &winevent.Record{Provider: winevent.ProviderSysmon, Channel: winevent.ChannelSysmon, EventID: id,
		RecordID: recordID, Computer: "WKS-9.lab", TimeCreated: at}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Data = append(r.Data, winevent.Data{Name: kv[i], Value: kv[i+1]})
	}
	return r
}

func mapOne(t *testing.T, m *mapping.Mapper, rec *winevent.Record) document.Document {
	t.Helper()
	var d document.Document
	if _, err := m.Map(rec, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

var at0 = time.Date(2020, 1, 14, 20, 48, 45, 285000000, time.UTC)

func utc(t time.Time) string { return t.Format("2006-01-02 15:04:05.000") }

func TestValuesVerbatim(t *testing.T) {
	m := newMapper(tracker.New(tracker.Options{}))
	d := mapOne(t, m, sysmon(1, 7, at0, "UtcTime", utc(at0), "ProcessGuid", " {AAAAAAAA-0000-0000-0000-000000000001} ",
		"ProcessId", " 4312 ", "Image", `C:\Tools\ssh-keygen.exe`, "CommandLine", `ssh-keygen.exe /keygen `,
		"User", `LAB\bob `, "ParentProcessId", "100", "ParentImage", `C:\Windows\explorer.exe`, "ParentCommandLine", ` explorer.exe`))
	p := d.Process
	if p.CommandLine != `ssh-keygen.exe /keygen ` || p.Parent.CommandLine != ` explorer.exe` || d.User.Name != "bob " {
		t.Errorf("values trimmed: %q %q %q", p.CommandLine, p.Parent.CommandLine, d.User.Name)
	}
	// Ids are parsed tolerantly: padding means nothing there.
	if p.PID.Value != 4312 || p.EntityID != "{AAAAAAAA-0000-0000-0000-000000000001}" {
		t.Errorf("ids: %d %q", p.PID.Value, p.EntityID)
	}
}

func TestPlaceholdersAreNotValues(t *testing.T) {
	m := newMapper(tracker.New(tracker.Options{}))
	// Nobody knows the parent: the fields are absent, not "?".
	d := mapOne(t, m, sysmon(1, 1, at0, "UtcTime", utc(at0), "ProcessGuid", "{AAAAAAAA-0000-0000-0000-000000000002}",
		"ProcessId", "6020", "Image", `C:\Windows\explorer.exe`, "CommandLine", `C:\Windows\explorer.exe /factory`,
		"ParentProcessGuid", "{AAAAAAAA-0000-0000-0000-000000000009}", "ParentProcessId", "752", "ParentImage", "?", "ParentCommandLine", "?"))
	pp := d.Process.Parent
	if pp.Executable != "" || pp.Name != "" || pp.CommandLine != "" || len(pp.Args) != 0 || pp.ArgsCount.Valid {
		t.Errorf("placeholder parent fields: %+v", pp)
	}
	if pp.EntityID != "{AAAAAAAA-0000-0000-0000-000000000009}" || pp.PID.Value != 752 {
		t.Errorf("the event's own parent id and pid are lost: %+v", pp)
	}
	// The tracker knows the parent: its values win over "?".
	parentStart := at0.Add(time.Minute)
	mapOne(t, m, sysmon(1, 2, parentStart, "UtcTime", utc(parentStart), "ProcessGuid", "{AAAAAAAA-0000-0000-0000-000000000003}",
		"ProcessId", "800", "Image", `C:\Windows\System32\cmd.exe`, "CommandLine", `cmd.exe /c whoami`))
	childStart := parentStart.Add(time.Second)
	d = mapOne(t, m, sysmon(1, 3, childStart, "UtcTime", utc(childStart), "ProcessGuid", "{AAAAAAAA-0000-0000-0000-000000000004}",
		"ProcessId", "801", "Image", `C:\Windows\System32\whoami.exe`, "CommandLine", `whoami`,
		"ParentProcessGuid", "{AAAAAAAA-0000-0000-0000-000000000003}", "ParentProcessId", "800", "ParentImage", "?", "ParentCommandLine", "?"))
	pp = d.Process.Parent
	if pp.Executable != `C:\Windows\System32\cmd.exe` || pp.Name != "cmd.exe" || pp.CommandLine != `cmd.exe /c whoami` || len(pp.Args) != 3 {
		t.Errorf("tracked parent not used: %+v", pp)
	}
	// An end whose start was seen carries the start's image, never
	// "<unknown process>"; an end nobody knows has no image.
	endAt := childStart.Add(time.Second)
	d = mapOne(t, m, sysmon(5, 4, endAt, "UtcTime", utc(endAt), "ProcessGuid", "{AAAAAAAA-0000-0000-0000-000000000004}",
		"ProcessId", "801", "Image", "<unknown process>"))
	if d.Process.Executable != `C:\Windows\System32\whoami.exe` || d.Process.Name != "whoami.exe" || d.Process.Parent.Name != "cmd.exe" {
		t.Errorf("end: %q %q parent %q", d.Process.Executable, d.Process.Name, d.Process.Parent.Name)
	}
	d = mapOne(t, m, sysmon(5, 5, endAt, "UtcTime", utc(endAt), "ProcessGuid", "{AAAAAAAA-0000-0000-0000-0000000000FF}",
		"ProcessId", "999", "Image", "<unknown process>"))
	if d.Process.Executable != "" || d.Process.Name != "" || strings.Contains(d.Message, "<unknown process>") {
		t.Errorf("unknown end: %q %q %q", d.Process.Executable, d.Process.Name, d.Message)
	}
	// Process access: the tracked source and target win over placeholders.
	d = mapOne(t, m, sysmon(10, 6, endAt, "UtcTime", utc(endAt), "SourceProcessGUID", "{AAAAAAAA-0000-0000-0000-000000000003}",
		"SourceProcessId", "800", "SourceImage", "<unknown process>", "TargetProcessGUID", "{AAAAAAAA-0000-0000-0000-0000000000EE}",
		"TargetProcessId", "4", "TargetImage", "<unknown process>", "GrantedAccess", "0x1000"))
	if d.Process.Executable != `C:\Windows\System32\cmd.exe` || d.Target.Process.Executable != "" || d.Target.Process.Name != "" || d.Winlog.EventData.TargetImage != "" {
		t.Errorf("access: source %q target %q %q", d.Process.Executable, d.Target.Process.Executable, d.Winlog.EventData.TargetImage)
	}
}

// TestIdentityWithoutRecordID: records that carry no record id (some JSON
// exports) are told apart by their full-precision time, so two real
// Sysmon 10 events with equal data a millisecond apart keep two ids; the
// same record read twice keeps one.
func TestIdentityWithoutRecordID(t *testing.T) {
	m := newMapper(tracker.New(tracker.Options{}))
	kv := []string{"UtcTime", utc(at0), "SourceProcessGUID", "{AAAAAAAA-0000-0000-0000-000000000003}", "SourceProcessId", "800",
		"SourceImage", `C:\x.exe`, "TargetProcessGUID", "{AAAAAAAA-0000-0000-0000-000000000005}", "TargetProcessId", "700",
		"TargetImage", `C:\Windows\System32\lsass.exe`, "GrantedAccess", "0x1010"}
	a := mapOne(t, m, sysmon(10, 0, at0, kv...)).Event
	b := mapOne(t, m, sysmon(10, 0, at0.Add(time.Millisecond), kv...)).Event
	a2 := mapOne(t, m, sysmon(10, 0, at0, kv...)).Event
	if a.ID == b.ID || a.ID != a2.ID {
		t.Errorf("ids %s %s %s", a.ID, b.ID, a2.ID)
	}
	if a.Sequence.Valid {
		t.Errorf("event.sequence %d without a record id", a.Sequence.Value)
	}
	// With a record id, the id and the sequence come from it.
	c := mapOne(t, m, sysmon(10, 41, at0, kv...)).Event
	d := mapOne(t, m, sysmon(10, 42, at0, kv...)).Event
	if c.ID == d.ID || c.Sequence.Value != 41 {
		t.Errorf("with record ids: %s %s sequence %d", c.ID, d.ID, c.Sequence.Value)
	}
}

func TestHostID(t *testing.T) {
	tr := tracker.New(tracker.Options{})
	m := mapping.New(tr, mapping.Options{
		Host:    mapping.Host{ID: "this-machine", Name: "WKS-9"},
		HostIDs: map[string]string{"srv-1.lab": "configured-1", "srv-2": "configured-2"},
		Now:     func() time.Time { return created },
	})
	rec := sysmon(10, 1, at0, "SourceProcessId", "1", "TargetProcessId", "2")
	for computer, want := range map[string]string{
		"WKS-9.lab":       "this-machine",
		"SRV-1.LAB":       "configured-1",
		"srv-2.other.lab": "configured-2",
		"Replayed-7.lab":  mapping.DeriveHostID("replayed-7.lab"),
	} {
		rec.Computer = computer
		if got := mapOne(t, m, rec).Host.ID; got != want {
			t.Errorf("%s: host.id %q, want %q", computer, got, want)
		}
	}
	// Derived ids are name-based UUIDs (v5, DNS namespace): stable, and
	// what any UUID library gives for the name.
	if got := mapping.DeriveHostID("MSEDGEWIN10"); got != "793f23ce-c4c7-5959-a51c-63fb1c8d65f0" {
		t.Errorf("DeriveHostID = %s", got)
	}
}

// TestEndOfAnotherProcessWithTheSameID: an end whose id matches a tracked
// start but whose pid or time contradicts it (Sysmon ids repeat across
// restored snapshots) does not take that start's details.
func TestEndOfAnotherProcessWithTheSameID(t *testing.T) {
	m := newMapper(tracker.New(tracker.Options{}))
	mapOne(t, m, sysmon(1, 1, at0, "UtcTime", utc(at0), "ProcessGuid", "{AAAAAAAA-0000-0000-0000-000000000007}",
		"ProcessId", "752", "Image", `C:\Windows\System32\PING.EXE`, "CommandLine", `ping -n 1 10.0.0.1`))
	later := at0.AddDate(0, 6, 0)
	d := mapOne(t, m, sysmon(5, 2, later, "UtcTime", utc(later), "ProcessGuid", "{AAAAAAAA-0000-0000-0000-000000000007}",
		"ProcessId", "4100", "Image", `C:\Windows\System32\svchost.exe`))
	if d.Process.Executable != `C:\Windows\System32\svchost.exe` || d.Process.CommandLine != "" {
		t.Errorf("end took another process's start: %q %q", d.Process.Executable, d.Process.CommandLine)
	}
}

func TestRecordImage(t *testing.T) {
	m := newMapper(tracker.New(tracker.Options{}))
	for _, c := range []struct {
		provider string
		id       uint16
		name     string
	}{
		{winevent.ProviderSysmon, 1, "Image"},
		{winevent.ProviderSysmon, 5, "Image"},
		{winevent.ProviderSecurity, 4688, "NewProcessName"},
		{winevent.ProviderSecurity, 4689, "ProcessName"},
	} {
		rec := &winevent.Record{Provider: c.provider, EventID: c.id, Data: []winevent.Data{{Name: "Image", Value: "-"}, {Name: c.name, Value: `C:\x.exe`}}}
		if c.name == "Image" {
			rec.Data = rec.Data[1:]
		}
		if got := m.RecordImage(rec); got != `C:\x.exe` {
			t.Errorf("event %d: %q", c.id, got)
		}
		// A Security event's network share image is named as Sysmon
		// names it, so the merge pairs the two.
		rec.Data[len(rec.Data)-1].Value = `\Device\Mup\srv\share\x.exe`
		want := `\\srv\share\x.exe`
		if c.provider == winevent.ProviderSysmon {
			want = rec.Data[len(rec.Data)-1].Value
		}
		if got := m.RecordImage(rec); got != want {
			t.Errorf("event %d: %q, want %q", c.id, got, want)
		}
	}
	if got := m.RecordImage(&winevent.Record{EventID: 10, Data: []winevent.Data{{Name: "Image", Value: `C:\x.exe`}}}); got != "" {
		t.Errorf("event 10: %q", got)
	}
}
