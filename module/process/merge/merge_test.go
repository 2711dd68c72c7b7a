package merge

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/winevent"
)

// rec is one test record: a mapped document of either provider, with the
// record's System/TimeCreated.
type rec struct {
	name   string // handle, e.g. "S1:a" (Sysmon start of process a)
	kind   mapping.Kind
	doc    document.Document
	logged time.Time
}

var t0 = time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)

// proc describes one process as both providers would log it.
type proc struct {
	id   string // test name
	host string
	pid  int64
	exe  string
	at   time.Duration // start, from t0
	life time.Duration // start to end
	guid string
	ppid int64 // 44 when zero
}

func (p proc) parentPID() document.Long {
	if p.ppid == 0 {
		return document.LongOf(44)
	}
	return document.LongOf(p.ppid)
}

func sysStart(p proc, skew time.Duration) rec {
	var d document.Document
	d.Event.Provider = winevent.ProviderSysmon
	d.Event.ID = "sys-start-" + p.id
	d.Event.Code = "1"
	d.Host.Name = p.host
	d.Timestamp = t0.Add(p.at + skew) // UtcTime, skewed differently
	d.Process.PID = document.LongOf(p.pid)
	d.Process.EntityID = p.guid
	d.Process.Executable = p.exe
	d.Process.Name = p.exe[strings.LastIndexByte(p.exe, '\\')+1:]
	d.Process.CommandLine = p.exe + " /x"
	d.Process.Args = []string{p.exe, "/x"}
	d.Process.ArgsCount = document.LongOf(2)
	d.Process.Hash.SHA256 = "aa" + p.id
	d.Process.PE.OriginalFileName = "orig-" + p.id
	d.Process.WorkingDirectory = `C:\work\`
	d.Process.Parent.EntityID = "{PARENT-" + p.id + "}"
	d.Process.Parent.PID = p.parentPID()
	d.Process.Ext.Ancestry = []string{"{PARENT-" + p.id + "}"}
	d.Process.Ext.Token.IntegrityLevelName = "high"
	d.Process.Ext.AuthenticationID = "0x3e7"
	d.User.Name, d.User.Domain, d.User.ID = "alice", "CORP", "S-1-5-21-name-lookup"
	return rec{name: "S1:" + p.id, kind: mapping.Start, doc: d, logged: t0.Add(p.at)}
}

func secStart(p proc, skew time.Duration) rec {
	var d document.Document
	d.Event.Provider = winevent.ProviderSecurity
	d.Event.ID = "sec-start-" + p.id
	d.Event.Code = "4688"
	d.Host.Name = p.host
	d.Timestamp = t0.Add(p.at + skew)
	d.Process.PID = document.LongOf(p.pid)
	d.Process.EntityID = "synthetic-" + p.id
	d.Process.Executable = strings.ToUpper(p.exe) // another case
	d.Process.CommandLine = p.exe + " /x"
	d.Process.Ext.Token.ElevationLevel = "full"
	d.Process.Ext.Token.IntegrityLevelName = "system"
	d.Process.Ext.AuthenticationID = "0x1a2b"
	d.Process.Parent.PID = p.parentPID()
	d.User.Name, d.User.ID = "alice", "S-1-5-21-token"
	d.Winlog.EventData.SubjectUserName = "alice"
	return rec{name: "T1:" + p.id, kind: mapping.Start, doc: d, logged: t0.Add(p.at + skew)}
}

func sysEnd(p proc) rec {
	var d document.Document
	d.Event.Provider = winevent.ProviderSysmon
	d.Event.ID = "sys-end-" + p.id
	d.Host.Name = p.host
	d.Timestamp = t0.Add(p.at + p.life)
	d.Process.PID = document.LongOf(p.pid)
	d.Process.EntityID = p.guid
	d.Process.Executable = p.exe
	return rec{name: "S5:" + p.id, kind: mapping.End, doc: d, logged: t0.Add(p.at + p.life)}
}

func secEnd(p proc) rec {
	var d document.Document
	d.Event.Provider = winevent.ProviderSecurity
	d.Event.ID = "sec-end-" + p.id
	d.Host.Name = p.host
	d.Timestamp = t0.Add(p.at + p.life)
	d.Process.PID = document.LongOf(p.pid)
	d.Process.EntityID = "synthetic-" + p.id
	d.Process.Executable = p.exe
	d.Process.ExitCode = document.LongOf(0)
	d.User.ID = "S-1-5-21-token"
	return rec{name: "T5:" + p.id, kind: mapping.End, doc: d, logged: t0.Add(p.at + p.life + 3*time.Millisecond)}
}

// out is one emitted document, as a comparable summary, and the records
// it acknowledges.
type out struct {
	kind mapping.Kind
	doc  document.Document
	acks []string
}

type sink struct{ docs []out }

func (s *sink) emit(k mapping.Kind, d *document.Document, acks []string) error {
	s.docs = append(s.docs, out{kind: k, doc: *d, acks: append([]string(nil), acks...)})
	return nil
}

func run(t *testing.T, m *Merger[string], recs []rec) *sink {
	t.Helper()
	s := &sink{}
	for i := range recs {
		r := &recs[i]
		if err := m.Add(Item[string]{Kind: r.kind, Doc: &r.doc, Logged: r.logged, Ack: r.name}, s.emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Flush(s.emit); err != nil {
		t.Fatal(err)
	}
	if m.Len() != 0 {
		t.Fatalf("%d held after Flush", m.Len())
	}
	return s
}

// byID indexes documents by _id (event.id) as Elasticsearch's create would:
// the first stored wins, a later document with the id must be identical.
func byID(t *testing.T, docs []out) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, o := range docs {
		body := string(o.doc.AppendJSON(nil))
		if prev, ok := m[o.doc.Event.ID]; ok && prev != body {
			t.Fatalf("_id %s stored twice with different documents:\n%s\n%s", o.doc.Event.ID, prev, body)
		}
		m[o.doc.Event.ID] = body
	}
	return m
}

func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var all [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			all = append(all, q)
		}
	}
	return all
}

var procA = proc{id: "a", host: "ws1.corp", pid: 4242, exe: `C:\Windows\System32\cmd.exe`, at: 0, life: 2 * time.Second, guid: "{GUID-A}"}

// Every arrival order of one process's four records gives one start and
// one end document with the union of fields and the Sysmon records' ids.
func TestEveryArrivalOrder(t *testing.T) {
	base := []rec{sysStart(procA, 0), secStart(procA, 0), sysEnd(procA), secEnd(procA)}
	var want map[string]string
	for _, perm := range permutations(len(base)) {
		recs := make([]rec, len(base))
		var order []string
		for i, j := range perm {
			recs[i] = base[j]
			order = append(order, base[j].name)
		}
		t.Run(strings.Join(order, ","), func(t *testing.T) {
			s := run(t, declared[string](Options{}), recs)
			if len(s.docs) != 2 {
				t.Fatalf("%d documents, want 2", len(s.docs))
			}
			for _, o := range s.docs {
				sort.Strings(o.acks)
				switch o.kind {
				case mapping.Start:
					checkStart(t, &o.doc)
					if got := strings.Join(o.acks, ","); got != "S1:a,T1:a" {
						t.Errorf("start acks %s", got)
					}
				case mapping.End:
					if o.doc.Event.ID != "sys-end-a" || o.doc.Process.EntityID != "{GUID-A}" || !o.doc.Process.ExitCode.Valid || o.doc.User.ID != "S-1-5-21-token" {
						t.Errorf("end document: %+v", o.doc.Process)
					}
					if got := strings.Join(o.acks, ","); got != "S5:a,T5:a" {
						t.Errorf("end acks %s", got)
					}
				}
			}
			got := byID(t, s.docs)
			if want == nil {
				want = got
			} else if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("documents differ from the first order's:\n%v\n%v", got, want)
			}
		})
	}
}

func checkStart(t *testing.T, d *document.Document) {
	t.Helper()
	p := &d.Process
	for _, c := range []struct{ field, got, want string }{
		{"event.id", d.Event.ID, "sys-start-a"},
		{"entity_id", p.EntityID, "{GUID-A}"},
		{"executable", p.Executable, procA.exe},
		{"hash.sha256", p.Hash.SHA256, "aaa"},
		{"pe.original_file_name", p.PE.OriginalFileName, "orig-a"},
		{"working_directory", p.WorkingDirectory, `C:\work\`},
		{"parent.entity_id", p.Parent.EntityID, "{PARENT-a}"},
		{"elevation_level", p.Ext.Token.ElevationLevel, "full"},
		{"integrity_level_name", p.Ext.Token.IntegrityLevelName, "high"},
		{"user.id", d.User.ID, "S-1-5-21-token"},
		{"user.domain", d.User.Domain, "CORP"},
		{"authentication_id", p.Ext.AuthenticationID, "0x1a2b"},
		{"subject user", d.Winlog.EventData.SubjectUserName, "alice"},
		{"event.provider", d.Event.Provider, winevent.ProviderSysmon},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if !d.Timestamp.Equal(t0) {
		t.Errorf("@timestamp %v, want Sysmon's %v", d.Timestamp, t0)
	}
	if !strings.Contains(d.Message, "cmd.exe") {
		t.Errorf("message %q", d.Message)
	}
}

// Each source's own time (UtcTime, the document's @timestamp) may be off by
// minutes; only System/TimeCreated within Tolerance pairs.
func TestSkewedClocks(t *testing.T) {
	recs := []rec{sysStart(procA, 0), secStart(procA, 0)}
	recs[1].doc.Timestamp = t0.Add(7 * time.Minute)
	recs[1].logged = t0.Add(900 * time.Millisecond)
	if s := run(t, declared[string](Options{}), recs); len(s.docs) != 1 {
		t.Fatalf("TimeCreated 900ms apart: %d documents, want 1 merged", len(s.docs))
	}
	recs[1].logged = t0.Add(-900 * time.Millisecond)
	if s := run(t, declared[string](Options{}), recs); len(s.docs) != 1 {
		t.Fatalf("TimeCreated -900ms apart: %d documents, want 1 merged", len(s.docs))
	}
	recs[1].logged = t0.Add(1100 * time.Millisecond)
	if s := run(t, declared[string](Options{}), recs); len(s.docs) != 2 {
		t.Fatalf("TimeCreated 1.1s apart (tolerance 1s): %d documents, want 2", len(s.docs))
	}
	if s := run(t, declared[string](Options{Tolerance: 2 * time.Second}), recs); len(s.docs) != 1 {
		t.Fatalf("TimeCreated 1.1s apart (tolerance 2s): %d documents, want 1", len(s.docs))
	}
}

// A record whose twin never comes is emitted alone once the other
// provider's stream has moved Window past it, keeping its own fields.
func TestOneTwinMissing(t *testing.T) {
	b := proc{id: "b", host: "ws1.corp", pid: 8, exe: `C:\b.exe`, at: 10 * time.Second, life: time.Second, guid: "{GUID-B}"}
	m := declared[string](Options{})
	s := &sink{}
	add := func(r rec) {
		if err := m.Add(Item[string]{Kind: r.kind, Doc: &r.doc, Logged: r.logged, Ack: r.name}, s.emit); err != nil {
			t.Fatal(err)
		}
	}
	add(sysStart(procA, 0)) // no 4688 for a
	add(secStart(b, 0))     // Security moves to t0+10s: a's twin would have come
	if len(s.docs) != 1 || s.docs[0].acks[0] != "S1:a" || s.docs[0].doc.Process.Ext.Token.ElevationLevel != "" {
		t.Fatalf("after the Security stream passed a: %+v", s.docs)
	}
	add(sysStart(b, 0))
	if len(s.docs) != 2 || len(s.docs[1].acks) != 2 || m.Len() != 0 {
		t.Fatalf("b merged: %d docs, %d held", len(s.docs), m.Len())
	}
	// A Security end alone, then nothing: held until Flush.
	add(secEnd(b))
	if m.Len() != 1 {
		t.Fatalf("held %d", m.Len())
	}
	if err := m.Flush(s.emit); err != nil {
		t.Fatal(err)
	}
	if last := s.docs[len(s.docs)-1]; last.acks[0] != "T5:b" || last.doc.Process.EntityID != "synthetic-b" {
		t.Fatalf("flushed %+v", last)
	}
}

// The same pid reused: another image, or the same image outside the
// tolerance, is another process; the nearest in time pairs.
func TestPIDReuse(t *testing.T) {
	other := procA
	other.id, other.exe, other.guid = "o", `C:\Windows\notepad.exe`, "{GUID-O}"
	// Sysmon saw cmd.exe as pid 4242, Security saw notepad.exe as 4242
	// 200 ms later (cmd ended, pid reused): no pair.
	r := []rec{sysStart(procA, 0), secStart(other, 200*time.Millisecond)}
	if s := run(t, declared[string](Options{}), r); len(s.docs) != 2 {
		t.Fatalf("different images paired: %d docs", len(s.docs))
	}
	// Two cmd.exe with pid 4242, 600 ms apart, both logged by both: each
	// pairs with its own twin in every order in which each channel stays
	// in time order (as channels log); with different parents, in every
	// order at all.
	second := procA
	second.id, second.guid, second.at = "c", "{GUID-C}", 600*time.Millisecond
	base := []rec{sysStart(procA, 0), secStart(procA, 0), sysStart(second, 0), secStart(second, 0)}
	secondOtherParent := second
	secondOtherParent.ppid = 45
	otherParent := []rec{base[0], base[1], sysStart(secondOtherParent, 0), secStart(secondOtherParent, 0)}
	for _, perm := range permutations(4) {
		recs := make([]rec, 4)
		pos := map[int]int{}
		for i, j := range perm {
			recs[i] = base[j]
			pos[j] = i
		}
		if pos[0] > pos[2] || pos[1] > pos[3] {
			for i, j := range perm {
				recs[i] = otherParent[j]
			}
		}
		s := run(t, declared[string](Options{}), recs)
		if len(s.docs) != 2 {
			t.Fatalf("%v: %d docs, want 2", perm, len(s.docs))
		}
		for _, o := range s.docs {
			sort.Strings(o.acks)
			id := strings.TrimPrefix(o.doc.Event.ID, "sys-start-")
			if want := "S1:" + id + ",T1:" + id; strings.Join(o.acks, ",") != want {
				// Nearest-first pairing can only cross over when twins
				// are closer to the other process than to each other.
				t.Errorf("%v: %s acks %v, want %s", perm, o.doc.Event.ID, o.acks, want)
			}
		}
	}
}

// merge_sources: false keeps both documents and holds nothing back; a
// Security record whose Sysmon twin came first carries the Sysmon GUID,
// parent GUID and ancestry, one that came first keeps its own.
func TestLink(t *testing.T) {
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		base := []rec{sysStart(procA, 0), secStart(procA, 0)}
		m := declared[string](Options{Link: true})
		s := &sink{}
		for _, i := range order {
			r := base[i]
			if err := m.Add(Item[string]{Kind: r.kind, Doc: &r.doc, Logged: r.logged, Ack: r.name}, s.emit); err != nil {
				t.Fatal(err)
			}
			if len(s.docs) != 1 || s.docs[0].acks[0] != r.name {
				t.Fatalf("%v: %s not emitted at once: %+v", order, r.name, s.docs)
			}
			out := s.docs[0].doc
			s.docs = nil
			p := &out.Process
			switch {
			case out.Event.Provider == winevent.ProviderSysmon:
				if out.Event.ID != "sys-start-a" || p.EntityID != "{GUID-A}" {
					t.Errorf("Sysmon document changed: %+v", p)
				}
			case order[0] == 0: // the twin is known
				if p.EntityID != "{GUID-A}" || p.Parent.EntityID != "{PARENT-a}" || len(p.Ext.Ancestry) != 1 || out.Event.ID != "sec-start-a" || p.Hash.SHA256 != "" {
					t.Errorf("linked Security document: %+v", p)
				}
			default:
				if p.EntityID != "synthetic-a" {
					t.Errorf("Security document before its twin: entity %s", p.EntityID)
				}
			}
		}
		if err := m.Flush(s.emit); err != nil || len(s.docs) != 0 || m.Len() != 0 {
			t.Fatalf("Flush in link mode: %v, %d emitted, %d left", err, len(s.docs), m.Len())
		}
	}
}

// Live collection: a record whose twin's source is quiet is released after
// Window of wall time.
func TestExpire(t *testing.T) {
	now := t0
	m := declared[string](Options{Now: func() time.Time { return now }})
	s := &sink{}
	r := sysStart(procA, 0)
	if err := m.Add(Item[string]{Kind: r.kind, Doc: &r.doc, Logged: r.logged, Ack: r.name}, s.emit); err != nil {
		t.Fatal(err)
	}
	now = now.Add(DefaultWindow)
	if err := m.Expire(s.emit); err != nil || len(s.docs) != 0 {
		t.Fatalf("released at exactly Window: %v %d", err, len(s.docs))
	}
	now = now.Add(time.Millisecond)
	if err := m.Expire(s.emit); err != nil || len(s.docs) != 1 || m.Len() != 0 {
		t.Fatalf("not released after Window: %v %d", err, len(s.docs))
	}
}

// With the Security source silent, at most MaxHeld records are held and
// the heap stays flat however many Sysmon records go through.
func TestBoundedWithOneSourceSilent(t *testing.T) {
	const maxHeld = 1000
	m := declared[string](Options{MaxHeld: maxHeld})
	var n int
	emit := func(mapping.Kind, *document.Document, []string) error { n++; return nil }
	var heap [2]uint64
	for round := range 2 {
		for i := range 50000 {
			p := procA
			p.pid = int64(i)
			p.at = time.Duration(round*50000+i) * time.Millisecond
			r := sysStart(p, 0)
			if err := m.Add(Item[string]{Kind: r.kind, Doc: &r.doc, Logged: r.logged, Ack: "x"}, emit); err != nil {
				t.Fatal(err)
			}
			if m.Len() > maxHeld {
				t.Fatalf("%d held, bound %d", m.Len(), maxHeld)
			}
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap[round] = ms.HeapAlloc
	}
	if n != 100000-maxHeld {
		t.Fatalf("%d emitted, want %d", n, 100000-maxHeld)
	}
	t.Logf("heap after 50k records %d KiB, after 100k %d KiB (%d held)", heap[0]>>10, heap[1]>>10, m.Len())
	if heap[1] > heap[0]+heap[0]/4+1<<20 {
		t.Errorf("heap grew from %d to %d with a bounded hold", heap[0], heap[1])
	}
}

// declared is a Merger told that the test host logs both providers.
func declared[T any](o Options) *Merger[T] {
	m := New[T](o)
	m.Declare("ws1.corp", winevent.ProviderSysmon)
	m.Declare("ws1.corp", winevent.ProviderSecurity)
	return m
}

// A host that logs Sysmon only holds nothing back; once its first Security
// record comes, its records wait for their twins.
func TestHostWithOneProviderHoldsNothing(t *testing.T) {
	m := New[string](Options{})
	s := &sink{}
	add := func(r rec) {
		if err := m.Add(Item[string]{Kind: r.kind, Doc: &r.doc, Logged: r.logged, Ack: r.name}, s.emit); err != nil {
			t.Fatal(err)
		}
	}
	add(sysStart(procA, 0))
	if len(s.docs) != 1 || m.Len() != 0 {
		t.Fatalf("Sysmon-only host: %d emitted, %d held", len(s.docs), m.Len())
	}
	b := procA
	b.id, b.pid, b.at = "b", 9, time.Second
	add(secStart(b, 0))
	add(sysStart(b, 0))
	if len(s.docs) != 2 || m.Len() != 0 || len(s.docs[1].acks) != 2 {
		t.Fatalf("first Security record, then its twin: %d emitted, %d held, want b merged", len(s.docs), m.Len())
	}
	c := b
	c.id, c.pid = "c", 10
	add(sysStart(c, 0))
	if m.Len() != 1 {
		t.Fatalf("with both providers seen, a Sysmon start is not held")
	}
	m.Declare("ws1.corp", "Microsoft-Windows-Other")
	if m.Len() != 1 || len(m.streams) != 2 {
		t.Fatal("another provider declared a stream")
	}
}

// An end document's executable is the process table's guess (4689 names
// its process by pid); the records' own images pair the twins.
func TestEndPairsOnTheRecordsImages(t *testing.T) {
	m := declared[string](Options{})
	s := &sink{}
	sys, sec := sysEnd(procA), secEnd(procA)
	sec.doc.Process.Executable = `C:\Windows\stale-guess.exe`
	sec.doc.Process.CommandLine = "other"
	for _, it := range []Item[string]{
		{Kind: sys.kind, Doc: &sys.doc, Logged: sys.logged, Ack: sys.name, Image: procA.exe},
		{Kind: sec.kind, Doc: &sec.doc, Logged: sec.logged, Ack: sec.name, Image: strings.ToLower(procA.exe)},
	} {
		if err := m.Add(it, s.emit); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.docs) != 1 || len(s.docs[0].acks) != 2 {
		t.Fatalf("ends with the same record image not paired: %+v", s.docs)
	}
	// Records naming different images are not twins.
	m = declared[string](Options{})
	s = &sink{}
	for _, it := range []Item[string]{
		{Kind: sys.kind, Doc: &sys.doc, Logged: sys.logged, Ack: sys.name, Image: procA.exe},
		{Kind: sec.kind, Doc: &sec.doc, Logged: sec.logged, Ack: sec.name, Image: `C:\other.exe`},
	} {
		if err := m.Add(it, s.emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Flush(s.emit); err != nil || len(s.docs) != 2 {
		t.Fatalf("different images paired: %v %d", err, len(s.docs))
	}
}

// BenchmarkPair is the per-record cost of merging: one Sysmon start held,
// its 4688 twin paired with it, the merged document emitted.
func BenchmarkPair(b *testing.B) {
	m := declared[string](Options{})
	sys, sec := sysStart(procA, 0), secStart(procA, 0)
	emit := func(mapping.Kind, *document.Document, []string) error { return nil }
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		at := time.Duration(i) * time.Millisecond
		if err := m.Add(Item[string]{Kind: mapping.Start, Doc: &sys.doc, Logged: t0.Add(at), Ack: "s"}, emit); err != nil {
			b.Fatal(err)
		}
		if err := m.Add(Item[string]{Kind: mapping.Start, Doc: &sec.doc, Logged: t0.Add(at), Ack: "t"}, emit); err != nil {
			b.Fatal(err)
		}
	}
}
