package evtx

// offsetIndex maps chunk offsets to small indexes (the names and templates
// met in the current chunk). It replaces a Go map on the per-record path:
// open addressing with linear probing over a power-of-two table kept at most
// half full, no hashing of interfaces, and a reset that clears a few KiB.
// Keys are stored as offset+1 so that zero marks an empty slot; only
// offsets inside a chunk are ever stored.
type offsetIndex struct {
	keys  []uint32
	vals  []int32
	n     int
	shift uint // 32 - log2(len(keys))
}

func (x *offsetIndex) reset() {
	if x.n == 0 {
		return
	}
	if len(x.keys) > 1<<13 && 8*x.n < len(x.keys) {
		// A crafted chunk grew the table; do not clear it for every chunk.
		*x = offsetIndex{}
		return
	}
	clear(x.keys)
	x.n = 0
}

func (x *offsetIndex) slot(off uint32) uint32 { return (off * 0x9e3779b1) >> x.shift }

func (x *offsetIndex) get(off uint32) (int32, bool) {
	if x.n == 0 || off >= chunkSize {
		return -1, false
	}
	mask := uint32(len(x.keys) - 1)
	for i := x.slot(off); ; i = (i + 1) & mask {
		switch x.keys[i] {
		case off + 1:
			return x.vals[i], true
		case 0:
			return -1, false
		}
	}
}

// set records idx for an offset inside a chunk that is not in the index.
func (x *offsetIndex) set(off uint32, idx int32) {
	if off >= chunkSize {
		return
	}
	if 2*(x.n+1) > len(x.keys) {
		x.grow()
	}
	x.put(off, idx)
}

func (x *offsetIndex) put(off uint32, idx int32) {
	mask := uint32(len(x.keys) - 1)
	i := x.slot(off)
	for x.keys[i] != 0 {
		i = (i + 1) & mask
	}
	x.keys[i], x.vals[i] = off+1, idx
	x.n++
}

func (x *offsetIndex) grow() {
	keys, vals := x.keys, x.vals
	size, shift := 256, uint(24)
	if len(keys) > 0 {
		size, shift = 2*len(keys), x.shift-1
	}
	*x = offsetIndex{keys: make([]uint32, size), vals: make([]int32, size), shift: shift}
	for i, k := range keys {
		if k != 0 {
			x.put(k-1, vals[i])
		}
	}
}
