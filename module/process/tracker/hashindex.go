package tracker

import (
	"math/bits"

	"github.com/procbeat/procbeat/internal/prefault"
)

// hashIndex maps 64-bit hashes of keys to the slots (of a table kept
// elsewhere) that hold the keys: a hash is computed once per operation and
// compared as a word, where a map keyed by the keys themselves (here two
// strings or more) would hash and compare them whole on every probe. The
// caller checks the key of a slot found; slots whose keys hash alike are
// chained through same. The zero value is an empty index.
type hashIndex struct {
	first hashSlots // the newest slot of each hash
	same  []int32   // by slot: the next slot whose key hashes alike, -1
}

// head is the first slot whose key hashes to h, -1 when none.
func (x *hashIndex) head(h uint64) int32 {
	if s, ok := x.first.get(h); ok {
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
	x.first.set(h, s)
}

// remove takes slot s, whose key hashes to h, out of the index, if it is
// there.
func (x *hashIndex) remove(h uint64, s int32) {
	first, ok := x.first.get(h)
	if !ok {
		return
	}
	next := x.same[s]
	if first == s {
		x.same[s] = -1
		if next >= 0 {
			x.first.set(h, next)
		} else {
			x.first.delete(h)
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
	x.first.clear()
	x.same = x.same[:0]
}

// hashSlots maps a hash to a slot, in one array probed linearly: a
// lookup reads one or two cache lines of it, where a Go map of a large
// table (the process table's: tens of thousands of entries, rarely in the
// cache) reads a group's control word, then its slot, through a
// directory. Deletion shifts the entries after it back (no tombstones),
// so a table that churns stays as full as what it holds.
type hashSlots struct {
	ents  []hashSlot // a power of two long, or empty
	n     int        // entries used
	shift uint8      // 64 - log2(len(ents))
}

// hashSlot is one entry: slot1 is the slot + 1, 0 when unused (so that a
// new array is empty).
type hashSlot struct {
	h     uint64
	slot1 int32
}

// home is where h's probe starts. The hash is mixed again: the tables'
// hashes are maphash's, but tests give weaker ones.
func (t *hashSlots) home(h uint64) uint64 { return (h * 0x9e3779b97f4a7c15) >> t.shift }

func (t *hashSlots) get(h uint64) (int32, bool) {
	if t.n == 0 {
		return -1, false
	}
	mask := uint64(len(t.ents) - 1)
	for i := t.home(h); ; i = (i + 1) & mask {
		e := &t.ents[i]
		if e.slot1 == 0 {
			return -1, false
		}
		if e.h == h {
			return e.slot1 - 1, true
		}
	}
}

// set maps h to s, replacing h's slot if it has one.
func (t *hashSlots) set(h uint64, s int32) {
	if (t.n+1)*4 > len(t.ents)*3 {
		t.grow()
	}
	mask := uint64(len(t.ents) - 1)
	for i := t.home(h); ; i = (i + 1) & mask {
		e := &t.ents[i]
		if e.slot1 == 0 {
			e.h, e.slot1 = h, s+1
			t.n++
			return
		}
		if e.h == h {
			e.slot1 = s + 1
			return
		}
	}
}

// delete unmaps h, if it is mapped.
func (t *hashSlots) delete(h uint64) {
	if t.n == 0 {
		return
	}
	mask := uint64(len(t.ents) - 1)
	i := t.home(h)
	for ; ; i = (i + 1) & mask {
		e := &t.ents[i]
		if e.slot1 == 0 {
			return
		}
		if e.h == h {
			break
		}
	}
	// Entries after i that probed past it move back into the hole, so
	// that every entry stays reachable from its home without a gap.
	for j := (i + 1) & mask; t.ents[j].slot1 != 0; j = (j + 1) & mask {
		// The entry at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		if k := t.home(t.ents[j].h); (j-k)&mask >= (j-i)&mask {
			t.ents[i] = t.ents[j]
			i = j
		}
	}
	t.ents[i] = hashSlot{}
	t.n--
}

// grow doubles the array (16 entries at first) and enters the entries
// again.
func (t *hashSlots) grow() {
	old := t.ents
	size := max(16, 2*len(old))
	t.ents = make([]hashSlot, size)
	// set reads a slot before it writes it.
	prefault.Slice(t.ents)
	t.shift = uint8(64 - bits.Len(uint(size-1)))
	t.n = 0
	for _, e := range old {
		if e.slot1 != 0 {
			t.set(e.h, e.slot1-1)
		}
	}
}

func (t *hashSlots) clear() {
	clear(t.ents)
	t.n = 0
}
