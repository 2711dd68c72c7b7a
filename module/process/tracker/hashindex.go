package tracker

// hashIndex maps 64-bit hashes of keys to the slots (of a table kept
// elsewhere) that hold the keys: a hash is computed once per operation and
// compared as a word, where a map keyed by the keys themselves (here two
// strings or more) would hash and compare them whole on every probe. The
// caller checks the key of a slot found; slots whose keys hash alike are
// chained through same.
type hashIndex struct {
	first map[uint64]int32 // the newest slot of each hash
	same  []int32          // by slot: the next slot whose key hashes alike, -1
}

func newHashIndex() hashIndex { return hashIndex{first: make(map[uint64]int32)} }

// head is the first slot whose key hashes to h, -1 when none.
func (x *hashIndex) head(h uint64) int32 {
	if s, ok := x.first[h]; ok {
		return s
	}
	return -1
}

// next is the slot after s whose key hashes as s's does, -1 when none.
func (x *hashIndex) next(s int32) int32 { return x.same[s] }

// add indexes slot s, whose key hashes to h.
func (x *hashIndex) add(h uint64, s int32) {
	for int(s) >= len(x.same) {
		x.same = append(x.same, -1)
	}
	x.same[s] = x.head(h)
	x.first[h] = s
}

// remove takes slot s, whose key hashes to h, out of the index, if it is
// there.
func (x *hashIndex) remove(h uint64, s int32) {
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

func (x *hashIndex) clear() {
	clear(x.first)
	x.same = x.same[:0]
}
