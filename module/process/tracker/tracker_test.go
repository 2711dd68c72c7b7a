package tracker

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/module/process/winfmt"
)

var t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func proc(id string, pid uint32, parent string, start time.Time) Entry {
	return Entry{EntityID: id, PID: pid, ParentEntityID: parent, Start: start, Name: "p" + id}
}

func TestAncestryDepth(t *testing.T) {
	tr := New(Options{})
	var ids []string
	for i := 0; i < 30; i++ {
		id := fmt.Sprintf("{g-%02d}", i)
		parent := ""
		if i > 0 {
			parent = ids[i-1]
		}
		e := tr.Start("h", proc(id, uint32(100+i), parent, t0.Add(time.Duration(i)*time.Second)))
		ids = append(ids, id)
		wantLen := min(i, MaxAncestry)
		if len(e.Ancestry) != wantLen {
			t.Fatalf("process %d: ancestry length %d, want %d", i, len(e.Ancestry), wantLen)
		}
		for k, a := range e.Ancestry {
			if a != ids[i-1-k] {
				t.Fatalf("process %d: ancestry[%d] = %s, want %s", i, k, a, ids[i-1-k])
			}
		}
	}
	// A parent we never saw start still counts as the first ancestor.
	e := tr.Start("h", proc("{orphan}", 5, "{unknown}", t0))
	if !reflect.DeepEqual(e.Ancestry, []string{"{unknown}"}) {
		t.Errorf("orphan ancestry %q", e.Ancestry)
	}
	// Hosts are separate tables.
	e = tr.Start("other", proc("{x}", 5, ids[29], t0))
	if !reflect.DeepEqual(e.Ancestry, []string{ids[29]}) {
		t.Errorf("cross-host ancestry %q", e.Ancestry)
	}
}

func TestParentByPIDForSecurityEvents(t *testing.T) {
	tr := New(Options{})
	p := tr.Start("h", Entry{PID: 0x850, Start: t0, Executable: `C:\Windows\System32\cmd.exe`})
	if p.EntityID != SyntheticEntityID("h", 0x850, t0) {
		t.Fatalf("synthetic id not applied: %s", p.EntityID)
	}
	c := tr.Start("h", Entry{PID: 0x1c58, ParentPID: 0x850, Start: t0.Add(time.Second)})
	if c.ParentEntityID != p.EntityID || !reflect.DeepEqual(c.Ancestry, []string{p.EntityID}) {
		t.Errorf("child: parent %q ancestry %q", c.ParentEntityID, c.Ancestry)
	}
}

// A host that logs both Sysmon and Security has two entries for one
// process: its child, known by pid, names the Sysmon one (the merged
// document keeps the GUID), though 4688's finer TimeCreated starts the
// Security one later; a different image with the pid (reuse) is not a
// twin.
func TestParentByPIDPrefersSysmonTwin(t *testing.T) {
	const img = `\\VBoxSvr\Users\bob\MalSeclogon.exe`
	for _, sysmonFirst := range []bool{true, false} {
		tr := New(Options{})
		sysmon := func() { tr.Start("h", Entry{EntityID: "{a}", PID: 6072, Start: t0, Executable: img}) }
		security := func() {
			tr.Start("h", Entry{PID: 6072, Start: t0.Add(600 * time.Microsecond), Executable: strings.ToUpper(img)})
		}
		if sysmonFirst {
			sysmon()
			security()
		} else {
			security()
			sysmon()
		}
		c := tr.Start("h", Entry{PID: 4580, ParentPID: 6072, Start: t0.Add(20 * time.Millisecond), Executable: `C:\Windows\System32\conhost.exe`})
		if c.ParentEntityID != "{a}" {
			t.Errorf("sysmon first %v: parent %q, want the Sysmon twin {a}", sysmonFirst, c.ParentEntityID)
		}
	}
	tr := New(Options{})
	tr.Start("h", Entry{EntityID: "{a}", PID: 6072, Start: t0, Executable: `C:\a.exe`})
	b := tr.Start("h", Entry{PID: 6072, Start: t0.Add(time.Second), Executable: `C:\b.exe`})
	if c := tr.Start("h", Entry{PID: 4580, ParentPID: 6072, Start: t0.Add(2 * time.Second)}); c.ParentEntityID != b.EntityID {
		t.Errorf("pid reused by another image: parent %q, want the newest %q", c.ParentEntityID, b.EntityID)
	}
}

func TestPIDReuse(t *testing.T) {
	tr := New(Options{})
	tr.Start("h", proc("{a}", 500, "", t0))
	tr.Start("h", proc("{b}", 500, "", t0.Add(10*time.Second)))
	tr.Start("h", proc("{c}", 500, "", t0.Add(20*time.Second)))
	tr.Start("h2", proc("{d}", 500, "", t0.Add(15*time.Second)))
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{t0, "{a}"},
		{t0.Add(5 * time.Second), "{a}"},
		{t0.Add(10 * time.Second), "{b}"},
		{t0.Add(15 * time.Second), "{b}"},
		{t0.Add(time.Hour), "{c}"},
		{time.Time{}, "{c}"},
	} {
		e, ok := tr.LookupPID("h", 500, tc.at)
		if !ok || e.EntityID != tc.want {
			t.Errorf("at %v: %q %v, want %q", tc.at, e.EntityID, ok, tc.want)
		}
	}
	if _, ok := tr.LookupPID("h", 500, t0.Add(-time.Second)); ok {
		t.Error("found a process before any started")
	}
	// Ending b: lookups inside b's lifetime still find it through the grace
	// ring; after its end nobody had the pid (a had ended when b got it),
	// until c; before b, a still had it.
	end := t0.Add(12 * time.Second)
	if e, ok := tr.EndPID("h", 500, end); !ok || e.EntityID != "{b}" || !e.End.Equal(end) {
		t.Fatalf("EndPID: %+v %v", e, ok)
	}
	if e, ok := tr.LookupPID("h", 500, t0.Add(11*time.Second)); !ok || e.EntityID != "{b}" {
		t.Errorf("inside b's lifetime: %q %v", e.EntityID, ok)
	}
	if e, ok := tr.LookupPID("h", 500, t0.Add(15*time.Second)); ok {
		t.Errorf("after end of b: %q, want nobody (a ended before b got its pid)", e.EntityID)
	}
	if e, ok := tr.LookupPID("h", 500, t0.Add(5*time.Second)); !ok || e.EntityID != "{a}" {
		t.Errorf("before b: %q %v", e.EntityID, ok)
	}
	if e, ok := tr.LookupPID("h", 500, t0.Add(25*time.Second)); !ok || e.EntityID != "{c}" {
		t.Errorf("after c started: %q %v", e.EntityID, ok)
	}
	if e, ok := tr.Lookup("h", "{b}"); !ok || e.End.IsZero() {
		t.Errorf("ended b not in grace: %+v %v", e, ok)
	}
	if tr.Len() != 3 {
		t.Errorf("live %d", tr.Len())
	}
}

func TestEndAndGrace(t *testing.T) {
	tr := New(Options{Grace: 2})
	for i := 0; i < 4; i++ {
		tr.Start("h", proc(fmt.Sprint(i), uint32(i+1), "", t0))
	}
	for i := 0; i < 3; i++ {
		e, ok := tr.End("h", fmt.Sprint(i), t0.Add(time.Minute))
		if !ok || e.EntityID != fmt.Sprint(i) {
			t.Fatalf("end %d: %+v %v", i, e, ok)
		}
	}
	if _, ok := tr.Lookup("h", "0"); ok {
		t.Error("grace ring kept more than 2")
	}
	for _, id := range []string{"1", "2", "3"} {
		if _, ok := tr.Lookup("h", id); !ok {
			t.Errorf("%s not found", id)
		}
	}
	if _, ok := tr.End("h", "nope", t0); ok {
		t.Error("ended an unknown process")
	}
	// A late child of an ended parent still gets its ancestry.
	c := tr.Start("h", proc("c", 99, "2", t0.Add(2*time.Minute)))
	if !reflect.DeepEqual(c.Ancestry, []string{"2"}) {
		t.Errorf("ancestry via grace %q", c.Ancestry)
	}
	// Grace disabled.
	tr = New(Options{Grace: -1})
	tr.Start("h", proc("x", 1, "", t0))
	tr.End("h", "x", t0)
	if _, ok := tr.Lookup("h", "x"); ok {
		t.Error("grace disabled but found")
	}
}

func TestEvictionLRU(t *testing.T) {
	tr := New(Options{MaxProcesses: 3})
	tr.Start("h", proc("a", 1, "", t0))
	tr.Start("h", proc("b", 2, "", t0))
	tr.Start("h", proc("c", 3, "", t0))
	tr.Lookup("h", "a")                 // a is now most recent; b is the oldest
	tr.Start("h", proc("d", 4, "", t0)) // evicts b
	if _, ok := tr.Lookup("h", "b"); ok {
		t.Error("b should have been evicted")
	}
	if _, ok := tr.LookupPID("h", 2, t0); ok {
		t.Error("pid index still has b")
	}
	for _, id := range []string{"a", "c", "d"} {
		if _, ok := tr.Lookup("h", id); !ok {
			t.Errorf("%s missing", id)
		}
	}
	if tr.Len() != 3 {
		t.Errorf("len %d", tr.Len())
	}
	// Churn through many processes: memory stays at the cap.
	for i := 0; i < 1000; i++ {
		tr.Start("h", proc(fmt.Sprint("n", i), uint32(i%7), "", t0.Add(time.Duration(i))))
	}
	if tr.Len() != 3 || tr.procs.slots() != 3 || tr.pidHead.len() > 3 {
		t.Errorf("len %d nodes %d pid heads %d", tr.Len(), tr.procs.slots(), tr.pidHead.len())
	}
	if e, ok := tr.LookupPID("h", uint32(999%7), time.Time{}); !ok || e.EntityID != "n999" {
		t.Errorf("newest pid lookup: %+v", e)
	}
}

func TestRestartReplacesEntry(t *testing.T) {
	tr := New(Options{})
	tr.Start("h", proc("a", 1, "", t0))
	tr.Start("h", proc("a", 2, "", t0))
	if tr.Len() != 1 {
		t.Fatalf("len %d", tr.Len())
	}
	if _, ok := tr.LookupPID("h", 1, t0); ok {
		t.Error("stale pid index")
	}
	if e, ok := tr.LookupPID("h", 2, t0); !ok || e.EntityID != "a" {
		t.Error("new pid not indexed")
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	tr := New(Options{Grace: 4})
	full := Entry{
		EntityID: "{A98268C1-E5C0-592F-0000-0010B1D10600}", PID: 4242, ParentEntityID: "{P}", ParentPID: 3568,
		Executable: `C:\Windows\System32\cmd.exe`, Name: "cmd.exe", CommandLine: `cmd.exe /c "x y"`,
		Args: []string{"cmd.exe", "/c", "x y"}, ArgsCount: 3,
		User:   User{Domain: "CORP", Name: "bob", ID: "S-1-5-21-1-2-3-1001"},
		Hashes: winfmt.Hashes{MD5: "aa", SHA1: "bb", SHA256: "cc", IMPHASH: "dd"},
		PE:     PE{OriginalFileName: "Cmd.Exe", FileVersion: "10.0", Description: "Windows Command Processor", Product: "Windows", Company: "Microsoft"},
		Token:  Token{IntegrityLevelName: "high", ElevationLevel: "full"}, AuthenticationID: "0x329e5",
		SessionID: 0, HasSessionID: true, WorkingDirectory: `C:\Users\bob\`, Start: t0.Add(123456700),
	}
	tr.Start("h", proc("{P}", 3568, "", t0.Add(-time.Hour)))
	full = tr.Start("h", full)
	tr.Start("h", proc("{Q}", 7, full.EntityID, t0.Add(time.Second)))
	tr.Start("h2", proc("{R}", 7, "", t0))
	tr.Start("h", proc("{E}", 8, "", t0))
	tr.End("h", "{E}", t0.Add(time.Minute))
	tr.Lookup("h", "{P}") // most recent
	tr.Learn("h", "CORP", "bob", "0x329e5", "S-1-5-21-1-2-3-1001")
	tr.Learn("h2", "CORP", "alice", "0x1", "S-1-5-21-1-2-3-1002")

	var buf bytes.Buffer
	if err := tr.Save(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), `{"format":"procbeat-tracker","version":1}`+"\n") {
		t.Fatalf("header: %.60s", buf.String())
	}
	saved := buf.String()
	tr2 := New(Options{Grace: 4})
	if err := tr2.Load(strings.NewReader(saved)); err != nil {
		t.Fatal(err)
	}
	got, ok := tr2.Lookup("h", full.EntityID)
	full.Seen = t0.Add(time.Second) // its child {Q} started then
	if !ok || !reflect.DeepEqual(got, full) {
		t.Errorf("round trip\n got %+v\nwant %+v", got, full)
	}
	if e, ok := tr2.LookupPID("h2", 7, t0); !ok || e.EntityID != "{R}" {
		t.Error("pid index not rebuilt")
	}
	if e, ok := tr2.Lookup("h", "{E}"); !ok || e.End.IsZero() {
		t.Error("grace entry lost")
	}
	if sid, ok := tr2.SIDFor("h", "corp", "BOB", "0x329E5"); !ok || sid != "S-1-5-21-1-2-3-1001" {
		t.Error("learned SID lost")
	}
	if sid, ok := tr2.SIDFor("h2", "CORP", "alice", "0x1"); !ok || sid != "S-1-5-21-1-2-3-1002" {
		t.Error("learned SID of the second host lost")
	}
	// Recency survives: saving the loaded tracker (without lookups since)
	// reproduces the same bytes.
	var buf2 bytes.Buffer
	tr3 := New(Options{Grace: 4})
	if err := tr3.Load(strings.NewReader(saved)); err != nil {
		t.Fatal(err)
	}
	if err := tr3.Save(&buf2); err != nil {
		t.Fatal(err)
	}
	if buf2.String() != saved {
		t.Errorf("second save differs:\n%s\n---\n%s", saved, buf2.String())
	}
	// A smaller tracker keeps the most recent processes.
	small := New(Options{MaxProcesses: 1})
	if err := small.Load(strings.NewReader(saved)); err != nil {
		t.Fatal(err)
	}
	if _, ok := small.Lookup("h", "{P}"); !ok || small.Len() != 1 {
		t.Error("small tracker did not keep the most recent")
	}
}

func TestLoadRejectsBadInput(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"wrong format": `{"format":"other","version":1}` + "\n",
		"future":       `{"format":"procbeat-tracker","version":2}` + "\n",
		"bad line":     `{"format":"procbeat-tracker","version":1}` + "\n{nope\n",
		"unknown type": `{"format":"procbeat-tracker","version":1}` + "\n" + `{"t":"z","h":"h"}` + "\n",
		"no id":        `{"format":"procbeat-tracker","version":1}` + "\n" + `{"t":"p","h":"h","e":{"pid":1}}` + "\n",
	} {
		tr := New(Options{})
		tr.Start("h", proc("a", 1, "", t0))
		err := tr.Load(strings.NewReader(in))
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		if (name == "empty" || name == "wrong format" || name == "future") && !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v is not ErrFormat", name, err)
		}
		if tr.Len() != 0 {
			t.Errorf("%s: tracker not left empty", name)
		}
	}
}

func TestSIDs(t *testing.T) {
	tr := New(Options{MaxSIDs: 2})
	for _, c := range []struct{ d, n, l, want string }{
		{"NT AUTHORITY", "SYSTEM", "", "S-1-5-18"},
		{"nt authority", "local service", "", "S-1-5-19"},
		{"NT AUTHORITY", "NETWORK SERVICE", "", "S-1-5-20"},
		{"AUTORITE NT", "Système", "", "S-1-5-18"},
		{"AUTORITE NT", "SERVICE RÉSEAU", "", "S-1-5-20"},
		{"NT-AUTORITÄT", "LOKALER DIENST", "", "S-1-5-19"},
		{"NT-AUTORITÄT", "NETZWERKDIENST", "", "S-1-5-20"},
		{"", "SYSTEM", "", "S-1-5-18"},
		{"Window Manager", "DWM-3", "", "S-1-5-90-0-3"},
		{"Font Driver Host", "UMFD-0", "", "S-1-5-96-0-0"},
		{"CORP", "bob", "0x3e7", "S-1-5-18"},
		{"", "", "0x3E5", "S-1-5-19"},
		{"", "", "0x3e4", "S-1-5-20"},
	} {
		if got, ok := tr.SIDFor("h", c.d, c.n, c.l); !ok || got != c.want {
			t.Errorf("%s\\%s %s: %q %v, want %s", c.d, c.n, c.l, got, ok, c.want)
		}
	}
	for _, c := range []struct{ d, n, l string }{{"CORP", "SYSTEM", ""}, {"", "LOCAL SERVICE", ""}, {"Window Manager", "DWM-x", ""}, {"", "", ""}} {
		if got, ok := tr.SIDFor("h", c.d, c.n, c.l); ok {
			t.Errorf("%s\\%s: unexpected %s", c.d, c.n, got)
		}
	}
	tr.Learn("h", "WORKSTATION5", "wardog", "0xc61d9", "S-1-5-21-3940915590-64593676-1414006259-500")
	tr.Learn("h", "-", "-", "0x0", "S-1-0-0") // placeholders are ignored
	if got, _ := tr.SIDFor("h", "workstation5", "WARDOG", "0xC61D9"); got != "S-1-5-21-3940915590-64593676-1414006259-500" {
		t.Errorf("by name and logon: %q", got)
	}
	// A SID belongs to one host and one logon session: not to the account
	// name in another session (a lab image's same-named account elsewhere),
	// nor to another account that got the logon id after a reboot.
	for _, c := range []struct{ h, d, n, l string }{
		{"h", "workstation5", "wardog", ""},
		{"h", "workstation5", "wardog", "0xc61da"},
		{"h", "OTHER", "x", "0xC61D9"},
		{"h2", "WORKSTATION5", "wardog", "0xc61d9"},
	} {
		if got, ok := tr.SIDFor(c.h, c.d, c.n, c.l); ok {
			t.Errorf("%s %s\\%s %s: got %s", c.h, c.d, c.n, c.l, got)
		}
	}
	// Cap 2: learning two more evicts wardog.
	tr.Learn("h", "D", "u1", "0x10", "S-1-5-21-1")
	tr.Learn("h", "D", "u2", "0x11", "S-1-5-21-2")
	if _, ok := tr.SIDFor("h", "WORKSTATION5", "wardog", "0xc61d9"); ok {
		t.Error("SID table not bounded")
	}
}

// WellKnownAccount names the service SIDs as Windows does in English, and
// each name maps back to its SID: the two directions agree.
func TestWellKnownAccount(t *testing.T) {
	for _, sid := range []string{"S-1-5-18", "S-1-5-19", "S-1-5-20"} {
		d, n, ok := WellKnownAccount(sid)
		if !ok {
			t.Fatalf("%s: not known", sid)
		}
		if back, ok := WellKnownSID(d, n); !ok || back != sid {
			t.Errorf("%s: %s\\%s maps back to %q %v", sid, d, n, back, ok)
		}
	}
	if d, n, _ := WellKnownAccount("S-1-5-18"); d != "NT AUTHORITY" || n != "SYSTEM" {
		t.Errorf("S-1-5-18: %s\\%s", d, n)
	}
	for _, sid := range []string{"", "S-1-5-7", "S-1-5-21-1-2-3-500", "s-1-5-18x"} {
		if d, n, ok := WellKnownAccount(sid); ok {
			t.Errorf("%q: unexpected %s\\%s", sid, d, n)
		}
	}
}

func TestSyntheticEntityID(t *testing.T) {
	start := time.Date(2020, 10, 19, 7, 30, 46, 251123456, time.UTC)
	id := SyntheticEntityID("WORKSTATION5", 7256, start)
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil {
		t.Fatal(err)
	}
	// 2020-10-19T07:30:46Z is 1603092646 Unix seconds; +11644473600.
	if want := "workstation5-7256-13247566246.2511234"; string(raw) != want {
		t.Errorf("decoded %q, want %q", raw, want)
	}
	if SyntheticEntityID("workstation5", 7256, start.In(time.FixedZone("x", 3600))) != id {
		t.Error("not deterministic across case and zone")
	}
	if SyntheticEntityID("workstation5", 7257, start) == id || SyntheticEntityID("workstation5", 7256, start.Add(100)) == id {
		t.Error("collision")
	}
	if raw, _ := base64.StdEncoding.DecodeString(SyntheticEntityID("h", 1, time.Date(1970, 1, 1, 0, 0, 0, 100, time.UTC))); string(raw) != "h-1-11644473600.0000001" {
		t.Errorf("padding: %q", raw)
	}
}

func BenchmarkStartLookupEnd(b *testing.B) {
	tr := New(Options{MaxProcesses: 4096})
	ids := make([]string, 8192)
	for i := range ids {
		ids[i] = fmt.Sprintf("{%08d-0000-0000-0000-000000000000}", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id := ids[i%len(ids)]
		parent := ids[(i+len(ids)-1)%len(ids)]
		tr.Start("host", Entry{EntityID: id, ParentEntityID: parent, PID: uint32(i % 5000), Start: t0})
		tr.Lookup("host", parent)
		tr.LookupPID("host", uint32(i%5000), t0)
		if i%2 == 0 {
			tr.End("host", id, t0)
		}
		i++
	}
}

func TestConcurrentUse(t *testing.T) {
	tr := New(Options{MaxProcesses: 64, Grace: 8})
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 500; i++ {
				id := fmt.Sprint(g, "-", i)
				tr.Start("h", proc(id, uint32(i%50), fmt.Sprint(g, "-", i-1), t0.Add(time.Duration(i))))
				tr.LookupPID("h", uint32(i%50), time.Time{})
				tr.Learn("h", "D", id, "0x1", "S-1-5-21-9")
				tr.SIDFor("h", "D", id, "")
				if i%3 == 0 {
					tr.End("h", id, t0)
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	if n := tr.Len(); n == 0 || n > 64 {
		t.Errorf("len %d", n)
	}
	var buf bytes.Buffer
	if err := tr.Save(&buf); err != nil {
		t.Fatal(err)
	}
}
