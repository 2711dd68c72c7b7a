package merge

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
)

// workload is a host's two channels over a minute: processes logged by
// both, by one only, a pid reused, records of a process in both orders.
func workload() (sysmonCh, securityCh []rec) {
	procs := []proc{
		{id: "p1", pid: 100, exe: `C:\a.exe`, at: 0, life: 3 * time.Second},
		{id: "p2", pid: 104, exe: `C:\b.exe`, at: 500 * time.Millisecond, life: 20 * time.Second},
		{id: "p3", pid: 100, exe: `C:\c.exe`, at: 4 * time.Second, life: time.Second}, // pid of p1 reused
		{id: "p4", pid: 200, exe: `C:\d.exe`, at: 9 * time.Second, life: 2 * time.Second},
		{id: "p5", pid: 204, exe: `C:\e.exe`, at: 15 * time.Second, life: 30 * time.Second},
		{id: "p6", pid: 100, exe: `C:\a.exe`, at: 25 * time.Second, life: time.Second}, // p1's image and pid again
		{id: "p7", pid: 300, exe: `C:\f.exe`, at: 30 * time.Second, life: 10 * time.Second},
		{id: "p8", pid: 304, exe: `C:\g.exe`, at: 31 * time.Second, life: 2 * time.Second},
	}
	type timed struct {
		r   rec
		sec bool
	}
	var all []timed
	for i := range procs {
		p := &procs[i]
		p.host, p.guid = "ws1.corp", "{"+p.id+"}"
		if p.id != "p4" { // Security did not log p4
			all = append(all, timed{secStart(*p, 0), true}, timed{secEnd(*p), true})
		}
		if p.id != "p5" && p.id != "p7" { // Sysmon did not log p5 and p7
			all = append(all, timed{sysStart(*p, 0), false}, timed{sysEnd(*p), false})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].r.logged.Before(all[j].r.logged) })
	for _, t := range all {
		if t.sec {
			securityCh = append(securityCh, t.r)
		} else {
			sysmonCh = append(sysmonCh, t.r)
		}
	}
	return sysmonCh, securityCh
}

// interleave reads the two channels in the order given by pattern (true:
// next Security record), then whatever is left of both.
type reading struct {
	ch   [2][]rec
	next [2]int // index of the next record per channel
}

// step returns the next record by the rule "Security when sec".
func (r *reading) step(sec bool) (rec, int, int, bool) {
	c := 0
	if sec {
		c = 1
	}
	if r.next[c] >= len(r.ch[c]) {
		c = 1 - c
	}
	if r.next[c] >= len(r.ch[c]) {
		return rec{}, 0, 0, false
	}
	i := r.next[c]
	r.next[c]++
	return r.ch[c][i], c, i, true
}

// handle names a record by channel and index, the test's checkpoint ticket.
type handle struct{ ch, i int }

// TestRestartAtEverySplitPoint cuts a run after every record, in several
// readings of the two channels (Sysmon first, Security first, live-like
// alternation): the first run's acknowledged documents are stored (by
// _id, first wins, as Elasticsearch's create), each channel's checkpoint
// stays before its first record not acknowledged and, for the two records
// of a merged document, before the one whose twin's channel has not
// reached the twin (the registry's linked tickets), and the second run
// reads on from the checkpoints. The stored documents are those of an
// uncut run: one start and one end per process, the same _ids, the same
// bodies. Without the link, a cut after a merged pair acknowledged behind
// a held record of one channel re-reads that channel's half alone: a
// second document under the half's own _id (the test fails so).
func TestRestartAtEverySplitPoint(t *testing.T) {
	sysmonCh, securityCh := workload()
	n := len(sysmonCh) + len(securityCh)
	readings := map[string]func(k int) bool{
		"sysmon-file-then-security-file": func(int) bool { return false },
		"security-file-then-sysmon-file": func(int) bool { return true },
		"alternating":                    func(k int) bool { return k%2 == 1 },
		"pairs":                          func(k int) bool { return k%4 >= 2 },
	}
	var want map[string]string
	for name, pattern := range readings {
		t.Run(name, func(t *testing.T) {
			whole := runCut(t, sysmonCh, securityCh, pattern, -1)
			checkOnePerProcess(t, whole)
			if want == nil {
				want = whole
			} else if fmt.Sprint(whole) != fmt.Sprint(want) {
				t.Fatalf("documents depend on the reading:\n%v\n%v", whole, want)
			}
			for k := 0; k <= n; k++ {
				got := runCut(t, sysmonCh, securityCh, pattern, k)
				if fmt.Sprint(got) != fmt.Sprint(whole) {
					t.Fatalf("cut after %d records:\n got %v\nwant %v", k, got, whole)
				}
			}
		})
	}
}

// runCut reads k records, stops (held records are lost, unacknowledged),
// and runs again from the checkpoints to the end; k < 0 runs once, uncut.
func runCut(t *testing.T, sysmonCh, securityCh []rec, pattern func(int) bool, k int) map[string]string {
	t.Helper()
	store := map[string]string{}
	acked := [2][]bool{make([]bool, len(sysmonCh)), make([]bool, len(securityCh))}
	partner := map[handle]handle{}
	emit := func(_ mapping.Kind, d *document.Document, acks []handle) error {
		body := string(d.AppendJSON(nil))
		if prev, ok := store[d.Event.ID]; ok && prev != body {
			t.Fatalf("_id %s with two bodies:\n%s\n%s", d.Event.ID, prev, body)
		} else if !ok {
			store[d.Event.ID] = body
		}
		for _, a := range acks {
			acked[a.ch][a.i] = true
		}
		if len(acks) == 2 {
			partner[acks[0]], partner[acks[1]] = acks[1], acks[0]
		}
		return nil
	}
	feed := func(m *Merger[handle], rd *reading, limit int) {
		for step := 0; step < limit; step++ {
			r, c, i, ok := rd.step(pattern(step))
			if !ok {
				return
			}
			if err := m.Add(Item[handle]{Kind: r.kind, Doc: &r.doc, Logged: r.logged, Ack: handle{c, i}}, emit); err != nil {
				t.Fatal(err)
			}
		}
	}
	first := &reading{ch: [2][]rec{sysmonCh, securityCh}}
	if k < 0 {
		// Uncut: one run to the end of the replay, which flushes.
		m := declared[handle](Options{})
		feed(m, first, len(sysmonCh)+len(securityCh))
		if err := m.Flush(emit); err != nil {
			t.Fatal(err)
		}
		return store
	}
	feed(declared[handle](Options{}), first, k)
	second := &reading{ch: [2][]rec{sysmonCh, securityCh}}
	second.next = checkpoints(acked, partner)
	m := declared[handle](Options{})
	feed(m, second, len(sysmonCh)+len(securityCh))
	if err := m.Flush(emit); err != nil {
		t.Fatal(err)
	}
	return store
}

func checkOnePerProcess(t *testing.T, store map[string]string) {
	t.Helper()
	// Every process of the workload has one start and one end _id: the
	// Sysmon record's, or the Security record's for p5, which Sysmon did
	// not log.
	var ids []string
	for id := range store {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	want := []string{}
	for _, p := range []string{"p1", "p2", "p3", "p4", "p6", "p8"} {
		want = append(want, "sys-end-"+p, "sys-start-"+p)
	}
	want = append(want, "sec-end-p5", "sec-start-p5", "sec-end-p7", "sec-start-p7")
	sort.Strings(want)
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("documents %v, want %v", ids, want)
	}
}

// checkpoints is where each channel resumes: the longest acknowledged
// prefix in which every linked record's twin lies in its own channel's
// prefix (a greatest fixpoint: prefixes only shrink).
func checkpoints(acked [2][]bool, partner map[handle]handle) [2]int {
	var reach [2]int
	for c := range 2 {
		for reach[c] < len(acked[c]) && acked[c][reach[c]] {
			reach[c]++
		}
	}
	for changed := true; changed; {
		changed = false
		for c := range 2 {
			for i := 0; i < reach[c]; i++ {
				if p, ok := partner[handle{c, i}]; ok && p.i >= reach[p.ch] {
					reach[c], changed = i, true
					break
				}
			}
		}
	}
	return reach
}
