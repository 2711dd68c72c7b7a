package tracker

import (
	"strconv"
	"testing"
	"time"
)

// checkPIDChains checks the pid index against the table: each used slot
// is in the chain of its (host, pid) exactly once, each chain's slots are
// of its (host, pid), and pidPrev links each slot to the one before it
// (-1 at the head), as unlinkPID relies on.
func checkPIDChains(t *testing.T, tr *Tracker) {
	t.Helper()
	seen := map[int32]bool{}
	for host, m := range tr.pidHead.hosts {
		for pid, head := range m {
			prev := int32(-1)
			for s := head; s >= 0; s = tr.meta[s].pidNext {
				if seen[s] {
					t.Fatalf("slot %d chained twice", s)
				}
				seen[s] = true
				if !tr.procs.node(s).used || tr.procs.key(s).host != host || tr.procs.val(s).PID != pid {
					t.Fatalf("slot %d in the chain of (%s, %d): used %v, %s %d", s, host, pid,
						tr.procs.node(s).used, tr.procs.key(s).host, tr.procs.val(s).PID)
				}
				if tr.meta[s].pidPrev != prev {
					t.Fatalf("slot %d of (%s, %d): pidPrev %d, want %d", s, host, pid, tr.meta[s].pidPrev, prev)
				}
				prev = s
			}
		}
	}
	for s := int32(0); int(s) < tr.procs.slots(); s++ {
		if tr.procs.node(s).used && !seen[s] {
			t.Fatalf("slot %d (%+v) in no pid chain", s, tr.procs.key(s))
		}
	}
}

// FuzzPIDChains drives a small tracker (evictions, replaced ids, pids
// reused, ends by id and by pid, boots) and checks its pid chains after
// every operation.
func FuzzPIDChains(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27}, uint8(5))
	f.Add([]byte{8, 8, 8, 9, 9, 9, 10, 10, 10, 72, 8, 8, 136, 9, 1, 200, 0, 0, 8, 16, 24, 32, 40, 48, 56, 64}, uint8(40))
	f.Fuzz(func(t *testing.T, ops []byte, size uint8) {
		tr := New(Options{MaxProcesses: int(size%12) + 1, MaxQuiet: time.Hour})
		base := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
		hosts := []string{"a", "b"}
		for i := 0; i+3 <= len(ops); i += 3 {
			op, a, b := ops[i], ops[i+1], ops[i+2]
			host := hosts[op&1]
			id := "{" + strconv.Itoa(int(a%9)) + "}"
			pid := uint32(a % 4)
			at := base.Add(time.Duration(b) * time.Minute)
			switch op >> 1 % 4 {
			case 0, 1:
				tr.Start(host, Entry{EntityID: id, PID: pid, Start: at})
			case 2:
				if op&8 != 0 {
					tr.EndPID(host, pid, at)
				} else {
					tr.End(host, id, at)
				}
			case 3:
				tr.mu.Lock()
				tr.boot(host, at)
				tr.mu.Unlock()
			}
			checkPIDChains(t, tr)
		}
	})
}
