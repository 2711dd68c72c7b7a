package tracker

import (
	"math/rand/v2"
	"testing"
)

// TestLRUCollidingHashes: keys whose hashes collide (here most of them)
// are all found, each under its own slot, through puts, removes and
// evictions in any order: the index's chains hold.
func TestLRUCollidingHashes(t *testing.T) {
	for _, max := range []int{0, 5, 40} {
		l := newLRU[int, int](max)
		l.hash = func(k int) uint64 { return uint64(k % 3) }
		model := map[int]int{}
		r := rand.New(rand.NewPCG(1, uint64(max)))
		for i := 0; i < 20000; i++ {
			k := r.IntN(60)
			switch r.IntN(3) {
			case 0, 1:
				l.put(k, i)
				model[k] = i
			case 2:
				if s, ok := l.peek(k); ok {
					l.remove(s)
				}
				delete(model, k)
			}
			// Evictions drop keys from the lru the model still has.
			for mk, mv := range model {
				s, ok := l.peek(mk)
				if !ok {
					if max == 0 {
						t.Fatalf("max %d op %d: %d lost", max, i, mk)
					}
					delete(model, mk)
					continue
				}
				if l.key(s) != mk || *l.val(s) != mv {
					t.Fatalf("max %d op %d: %d found as %d=%d, want %d", max, i, mk, l.key(s), *l.val(s), mv)
				}
			}
			if l.len() != len(model) {
				t.Fatalf("max %d op %d: len %d, model %d", max, i, l.len(), len(model))
			}
		}
	}
}

// TestGraceRingCollidingHashes: the grace ring finds by id the latest
// push of each id still in the ring, whatever ids its index chains
// together (here most of them) and however often one id ends again.
func TestGraceRingCollidingHashes(t *testing.T) {
	const size = 5
	var g graceRing
	g.init(size, func(k procKey) uint64 { return uint64(len(k.id) % 2) })
	r := rand.New(rand.NewPCG(2, 2))
	var pushed []string // ids, in push order
	for i := 0; i < 5000; i++ {
		id := []string{"{a}", "{bb}", "{c}", "{dd}", "{e}", "{ff}", "{g}"}[r.IntN(7)]
		g.push("h", &Entry{EntityID: id, PID: uint32(i)})
		pushed = append(pushed, id)
		for _, want := range []string{"{a}", "{bb}", "{c}", "{dd}", "{e}", "{ff}", "{g}"} {
			latest := -1
			for j := len(pushed) - 1; j >= 0 && j >= len(pushed)-size; j-- {
				if pushed[j] == want {
					latest = j
					break
				}
			}
			e := g.byID("h", want)
			switch {
			case latest < 0 && e != nil:
				t.Fatalf("push %d: %s found (pid %d), ended too long ago", i, want, e.PID)
			case latest >= 0 && (e == nil || e.PID != uint32(latest)):
				t.Fatalf("push %d: %s found as %+v, want the end of push %d", i, want, e, latest)
			}
		}
	}
}
