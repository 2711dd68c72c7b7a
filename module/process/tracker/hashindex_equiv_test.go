package tracker

import (
	"slices"
	"testing"
)

// refHashIndex is hashIndex as it was before its hashes went into an
// array probed linearly (issue 17): a Go map of the newest slot per hash.
type refHashIndex struct {
	first map[uint64]int32
	same  []int32
}

func (x *refHashIndex) head(h uint64) int32 {
	if s, ok := x.first[h]; ok {
		return s
	}
	return -1
}

func (x *refHashIndex) add(h uint64, s int32) {
	for int(s) >= len(x.same) {
		x.same = append(x.same, -1)
	}
	x.same[s] = x.head(h)
	x.first[h] = s
}

func (x *refHashIndex) remove(h uint64, s int32) {
	first, ok := x.first[h]
	if !ok {
		return
	}
	next := x.same[s]
	if first == s {
		x.same[s] = -1
		if next >= 0 {
			x.first[h] = next
		} else {
			delete(x.first, h)
		}
		return
	}
	for p := first; p >= 0; p = x.same[p] {
		if x.same[p] == s {
			x.same[p] = next
			x.same[s] = -1
			return
		}
	}
}

// fuzzHashes are the hashes the fuzz target indexes slots under: small
// ones, and large ones that differ in a few bits (so that homes collide
// in small arrays and probe runs wrap around the end).
func fuzzHashes() []uint64 {
	hs := make([]uint64, 0, 48)
	for i := range uint64(24) {
		hs = append(hs, i, ^i<<40|i)
	}
	return hs
}

// FuzzHashIndexIsReference drives hashIndex and refHashIndex through the
// same adds and removes (slots 0-63, each under one of fuzzHashes, as the
// tables use them: a slot is added when free and removed under its own
// hash) and clears; after each, every hash's chain is the same, and the
// array holds as many hashes as the map.
func FuzzHashIndexIsReference(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 130, 131, 132, 133})
	f.Add([]byte{5, 5, 5, 69, 69, 69, 133, 5, 197, 6, 7, 255, 1, 2, 3, 4, 65, 66, 67, 68, 255, 9})
	hs := fuzzHashes()
	f.Fuzz(func(t *testing.T, ops []byte) {
		fast, ref := hashIndex{}, refHashIndex{first: map[uint64]int32{}}
		var hashOf [64]int // index in hs + 1, 0 when the slot is free
		for i, op := range ops {
			s := int32(op % 64)
			switch {
			case op == 255:
				fast.clear()
				ref = refHashIndex{first: map[uint64]int32{}}
				hashOf = [64]int{}
			case hashOf[s] == 0:
				k := (int(op) + i) % len(hs)
				fast.add(hs[k], s)
				ref.add(hs[k], s)
				hashOf[s] = k + 1
			default:
				h := hs[hashOf[s]-1]
				fast.remove(h, s)
				ref.remove(h, s)
				hashOf[s] = 0
			}
			if fast.first.n != len(ref.first) {
				t.Fatalf("op %d: %d hashes, want %d", i, fast.first.n, len(ref.first))
			}
			for _, h := range hs {
				var got, want []int32
				for s := fast.head(h); s >= 0; s = fast.next(s) {
					got = append(got, s)
				}
				for s := ref.head(h); s >= 0; s = ref.same[s] {
					want = append(want, s)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("op %d: hash %#x chains %v, want %v", i, h, got, want)
				}
			}
		}
	})
}
