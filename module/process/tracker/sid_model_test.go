package tracker

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestSIDTableIsModel: through Learn and SIDFor (now on the hashed
// index), the SID table answers as a plain list of accounts kept most
// recently used first, with evictions.
func TestSIDTableIsModel(t *testing.T) {
	type acct struct {
		key string
		sid string
	}
	for _, max := range []int{1, 2, 3, 50} {
		tr := New(Options{MaxSIDs: max})
		var model []acct // most recently used first
		find := func(key string) int { return slices.IndexFunc(model, func(a acct) bool { return a.key == key }) }
		r := rand.New(rand.NewPCG(9, uint64(max)))
		hosts := []string{"h1", "h2"}
		domains := []string{"CORP", "corp", " Corp "}
		names := []string{"bob", "BOB", "alice", "carol"}
		logons := []string{"0x10", "0x11", "16"}
		for i := 0; i < 5000; i++ {
			h, d, n, l := hosts[r.IntN(2)], domains[r.IntN(3)], names[r.IntN(4)], logons[r.IntN(3)]
			lv := map[string]string{"0x10": "16", "0x11": "17", "16": "16"}[l]
			key := h + "|" + strings.ToUpper(strings.TrimSpace(d)) + "|" + strings.ToUpper(n) + "|" + lv
			if r.IntN(2) == 0 {
				sid := "S-1-5-21-" + string(rune('0'+i%10))
				tr.Learn(h, d, n, l, sid)
				if j := find(key); j >= 0 {
					model = slices.Delete(model, j, j+1)
				} else if len(model) >= max {
					model = model[:len(model)-1]
				}
				model = slices.Insert(model, 0, acct{key, sid})
				continue
			}
			got, ok := tr.SIDFor(h, d, n, l)
			j := find(key)
			if ok != (j >= 0) || ok && got != model[j].sid {
				t.Fatalf("max %d op %d: SIDFor(%s) = %q %v, model %v", max, i, key, got, ok, model)
			}
			if ok {
				a := model[j]
				model = slices.Insert(slices.Delete(model, j, j+1), 0, a)
			}
		}
	}
}
