package tracker

import "hash/maphash"

// lru is a bounded map with least-recently-used eviction. Entries live in
// a slab with an intrusive doubly linked list threaded through slot
// indexes, so get, put and remove are O(1) and, once the slab has grown to
// its cap, allocate nothing.
//
// The slab grows a page at a time and never moves: an entry of the process
// table is half a kilobyte, and a slab grown by append would copy (and
// allocate) the table over and over as it fills. The list's links are
// apart from the entries, eight bytes a slot: marking an entry recently
// used rewrites its neighbours' links, and in a large table those are far
// apart, so a compact array of links costs fewer cache misses than the
// entries themselves.
//
// The index (see hashIndex) holds hashes of the keys: the process table's
// keys are two strings (host and entity id), hashed once per operation
// (the tracker keeps the hash of the host of a run of records).
type lru[K comparable, V any] struct {
	hash  func(K) uint64
	idx   hashIndex
	count int               // entries
	pages [][]lruNode[K, V] // each lruPage nodes long
	links []lruLink         // by slot
	// hashes holds each used slot's key's hash, by slot: removing a slot
	// takes it out of the index without hashing its key again (whose
	// strings are seldom in the cache by then: an evicted or ended
	// process's).
	hashes []uint64
	n      int32 // slots made, in pages
	head   int32 // most recently used, -1 when empty
	tail   int32 // least recently used, -1 when empty
	free   int32 // free list through next, -1 when empty
	max    int
	// onEvict is called before a slot is reused or removed by eviction.
	onEvict func(slot int32)
}

type lruNode[K comparable, V any] struct {
	key  K
	val  V
	used bool
}

// lruLink links a slot to its neighbours in recency order, or (next) a
// free slot to the next free one.
type lruLink struct{ prev, next int32 }

// lruPage is the nodes per page of an lru's slab.
const lruPage = 256

// node is slot s.
func (l *lru[K, V]) node(s int32) *lruNode[K, V] {
	return &l.pages[uint32(s)/lruPage][uint32(s)%lruPage]
}

// slots is how many slots were made: slot numbers are below it.
func (l *lru[K, V]) slots() int { return int(l.n) }

// newSlot makes slot l.n, zero.
func (l *lru[K, V]) newSlot() int32 {
	s := l.n
	if int(s/lruPage) == len(l.pages) {
		l.pages = append(l.pages, make([]lruNode[K, V], lruPage))
	}
	l.links = append(l.links, lruLink{-1, -1})
	l.hashes = append(l.hashes, 0)
	l.n++
	return s
}

// newLRU returns an lru of at most max entries (none when max <= 0)
// whose keys hash with maphash.Comparable; setting hash before the first
// put replaces it with a faster one.
func newLRU[K comparable, V any](max int) *lru[K, V] {
	seed := maphash.MakeSeed()
	return &lru[K, V]{
		hash: func(k K) uint64 { return maphash.Comparable(seed, k) },
		head: -1, tail: -1, free: -1, max: max,
	}
}

func (l *lru[K, V]) len() int { return l.count }

// find is the slot of k, whose hash is h.
func (l *lru[K, V]) find(k K, h uint64) (int32, bool) {
	for s := l.idx.head(h); s >= 0; s = l.idx.next(s) {
		if l.node(s).key == k {
			return s, true
		}
	}
	return -1, false
}

func (l *lru[K, V]) unlink(s int32) {
	n := &l.links[s]
	if n.prev >= 0 {
		l.links[n.prev].next = n.next
	} else {
		l.head = n.next
	}
	if n.next >= 0 {
		l.links[n.next].prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = -1, -1
}

func (l *lru[K, V]) pushFront(s int32) {
	n := &l.links[s]
	n.prev, n.next = -1, l.head
	if l.head >= 0 {
		l.links[l.head].prev = s
	}
	l.head = s
	if l.tail < 0 {
		l.tail = s
	}
}

// get returns the slot of k and marks it most recently used.
func (l *lru[K, V]) get(k K) (int32, bool) {
	return l.getHashed(k, l.hash(k))
}

// getHashed is get of k whose hash is h: callers that know the hash
// function call it directly, which lets keys made on the stack stay there
// (through the hash field, they escape).
func (l *lru[K, V]) getHashed(k K, h uint64) (int32, bool) {
	s, ok := l.find(k, h)
	if !ok {
		return -1, false
	}
	l.touch(s)
	return s, true
}

// touch marks slot s most recently used.
func (l *lru[K, V]) touch(s int32) {
	if l.head != s {
		l.unlink(s)
		l.pushFront(s)
	}
}

// peek returns the slot of k without touching recency.
func (l *lru[K, V]) peek(k K) (int32, bool) {
	return l.find(k, l.hash(k))
}

func (l *lru[K, V]) val(s int32) *V { return &l.node(s).val }
func (l *lru[K, V]) key(s int32) K  { return l.node(s).key }

// put stores v under k as the most recently used entry, evicting the least
// recently used one when full, and returns its slot.
func (l *lru[K, V]) put(k K, v V) int32 {
	if s, ok := l.get(k); ok {
		l.node(s).val = v
		return s
	}
	return l.insert(k, &v)
}

// set replaces the value of slot s with *v and marks it most recently
// used. Values come by pointer, as insert's: the process table's are
// half a kilobyte, copied once into the slot.
func (l *lru[K, V]) set(s int32, v *V) {
	l.node(s).val = *v
	l.touch(s)
}

// insert stores v under k, which is not there (peek said so), as put
// does.
func (l *lru[K, V]) insert(k K, v *V) int32 {
	return l.insertHashed(k, l.hash(k), v)
}

// insertHashed is insert of k whose hash is h.
func (l *lru[K, V]) insertHashed(k K, h uint64, v *V) int32 {
	if l.max > 0 && l.count >= l.max {
		l.evict(l.tail)
	}
	var s int32
	if l.free >= 0 {
		s = l.free
		l.free = l.links[s].next
	} else {
		s = l.newSlot()
	}
	n := l.node(s)
	n.key, n.val, n.used = k, *v, true
	l.hashes[s] = h
	l.idx.add(h, s)
	l.count++
	l.pushFront(s)
	return s
}

func (l *lru[K, V]) evict(s int32) {
	if l.onEvict != nil {
		l.onEvict(s)
	}
	l.remove(s)
}

// remove deletes slot s.
func (l *lru[K, V]) remove(s int32) {
	n := l.node(s)
	if !n.used {
		return
	}
	l.unlink(s)
	l.idx.remove(l.hashes[s], s)
	l.count--
	var zero lruNode[K, V]
	*n = zero
	l.links[s].next = l.free
	l.free = s
}

// each calls fn from the least to the most recently used entry.
func (l *lru[K, V]) each(fn func(s int32) error) error {
	for s := l.tail; s >= 0; s = l.links[s].prev {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

func (l *lru[K, V]) clear() {
	l.idx.clear()
	l.count = 0
	// The pages stay, as a slab's capacity would: slots are made anew.
	l.n = 0
	l.links = l.links[:0]
	l.hashes = l.hashes[:0]
	l.head, l.tail, l.free = -1, -1, -1
}
