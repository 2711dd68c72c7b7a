package tracker

import "testing"

// FuzzPIDIndexIsMap: the per-host index answers as one map keyed by host
// and pid (what it replaced, issue 17), and keeps no empty host.
func FuzzPIDIndexIsMap(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	f.Fuzz(func(t *testing.T, ops []byte) {
		type key struct {
			host string
			pid  uint32
		}
		hosts := []string{"a", "b", "c"}
		x := newPIDIndex()
		ref := map[key]int32{}
		for i, op := range ops {
			k := key{hosts[op%3], uint32(op / 3 % 4)}
			switch op / 12 % 3 {
			case 0:
				x.set(k.host, k.pid, int32(i))
				ref[k] = int32(i)
			case 1:
				x.delete(k.host, k.pid)
				delete(ref, k)
			}
			for _, h := range hosts {
				for pid := uint32(0); pid < 4; pid++ {
					s, ok := x.get(h, pid)
					rs, rok := ref[key{h, pid}]
					if ok != rok || s != rs {
						t.Fatalf("get(%s, %d) = %d %v, want %d %v", h, pid, s, ok, rs, rok)
					}
				}
			}
			if x.len() != len(ref) {
				t.Fatalf("len %d, want %d", x.len(), len(ref))
			}
			for h, m := range x.hosts {
				if len(m) == 0 {
					t.Fatalf("host %s kept empty", h)
				}
			}
		}
	})
}
