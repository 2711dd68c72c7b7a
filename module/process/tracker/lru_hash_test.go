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
