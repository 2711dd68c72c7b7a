package tracker

import (
	"slices"
	"testing"
)

// FuzzLRUIsModel: the slab lru (pages, links apart) keeps the entries and
// the recency order of a plain list kept most recent first, evicting its
// last, through any sequence of puts, gets, peeks, removes and clears.
func FuzzLRUIsModel(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, uint8(3))
	f.Fuzz(func(t *testing.T, ops []byte, max uint8) {
		type kv struct{ k, v int }
		l := newLRU[int, int](int(max % 8))
		var model []kv // most recently used first
		find := func(k int) int {
			return slices.IndexFunc(model, func(e kv) bool { return e.k == k })
		}
		for i, op := range ops {
			k := int(op % 11)
			switch op / 11 % 5 {
			case 0: // put
				l.put(k, i)
				if j := find(k); j >= 0 {
					model = slices.Delete(model, j, j+1)
				} else if max%8 > 0 && len(model) >= int(max%8) {
					model = model[:len(model)-1]
				}
				model = slices.Insert(model, 0, kv{k, i})
			case 1: // get
				s, ok := l.get(k)
				j := find(k)
				if ok != (j >= 0) || ok && *l.val(s) != model[j].v {
					t.Fatalf("get(%d) = %v, model %v", k, ok, model)
				}
				if ok {
					e := model[j]
					model = slices.Insert(slices.Delete(model, j, j+1), 0, e)
				}
			case 2: // peek
				s, ok := l.peek(k)
				if j := find(k); ok != (j >= 0) || ok && (*l.val(s) != model[j].v || l.key(s) != k) {
					t.Fatalf("peek(%d) = %v, model %v", k, ok, model)
				}
			case 3: // remove
				if s, ok := l.peek(k); ok {
					l.remove(s)
					j := find(k)
					model = slices.Delete(model, j, j+1)
				}
			case 4:
				if op%3 == 0 {
					l.clear()
					model = model[:0]
				}
			}
			var order []kv
			_ = l.each(func(s int32) error {
				order = append(order, kv{l.key(s), *l.val(s)})
				return nil
			})
			slices.Reverse(order) // each goes from the least recent
			if !slices.Equal(order, model) || l.len() != len(model) {
				t.Fatalf("after op %d: lru %v, model %v", i, order, model)
			}
		}
	})
}
