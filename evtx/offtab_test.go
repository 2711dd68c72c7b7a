package evtx

import (
	"math/rand/v2"
	"testing"
)

// TestOffsetIndex checks the index against a map through growth, resets
// and the shrink after a large chunk.
func TestOffsetIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var x offsetIndex
	for round, n := range []int{0, 5, 300, 20000, 3, 60000, 10} {
		x.reset()
		want := map[uint32]int32{}
		for i := 0; i < n; i++ {
			off := uint32(rng.IntN(chunkSize))
			if _, ok := want[off]; ok {
				continue
			}
			want[off] = int32(i)
			x.set(off, int32(i))
		}
		for off := uint32(0); off < chunkSize+10; off++ {
			got, ok := x.get(off)
			w, wok := want[off]
			if ok != wok || (ok && got != w) {
				t.Fatalf("round %d: get(%d) = %d, %v; want %d, %v", round, off, got, ok, w, wok)
			}
		}
		if _, ok := x.get(0xffffffff); ok {
			t.Fatalf("round %d: found an offset outside the chunk", round)
		}
	}
}
