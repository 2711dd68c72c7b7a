package mapping

import (
	"hash/maphash"

	"github.com/procbeat/procbeat/internal/prefault"
)

// strCache keeps values by string key, in sets of cacheWays entries chosen
// by the key's hash, the most recently used first in each set: keys that
// share a set (a direct-mapped cache's bane when a collection cycles
// through a few thousand lines) stay cached side by side. A set keeps its
// keys' hashes together, ahead of the entries, so that a search reads one
// cache line and then only the entry that matches. What the entries hold
// is kept within budget bytes, as their users count it (put's size).
type strCache[V any] struct {
	sets []cacheSet[V]
	// last is the entry found or made last, asked the key asked then: a
	// start asks for its line twice, the same string (compared by
	// address, not by its bytes as the entry's copy would be).
	last   *cacheEntry[V]
	asked  string
	held   int // bytes the entries hold
	budget int
	seed   maphash.Seed
}

const cacheWays = 4

type cacheSet[V any] struct {
	hashes [cacheWays]uint64 // of the keys of entries that are set
	ents   [cacheWays]cacheEntry[V]
}

type cacheEntry[V any] struct {
	key  string
	val  V
	size int // bytes held, as the user counts them
	set  bool
}

func (c *strCache[V]) init(sets, budget int) {
	c.sets = make([]cacheSet[V], sets)
	// entry reads a set before it writes it.
	prefault.Slice(c.sets)
	c.budget = budget
	c.seed = maphash.MakeSeed()
}

// entry is the entry of key: its value when set, else the entry to store
// them in with put (the set's least recently used one, cleared).
func (c *strCache[V]) entry(key string) *cacheEntry[V] {
	if l := c.last; l != nil && l.set && c.asked == key {
		return l
	}
	c.asked = key
	// The whole key: lines that differ in a few bytes only (a service
	// name, an address) are common.
	h := maphash.String(c.seed, key)
	set := &c.sets[h%uint64(len(c.sets))]
	i := 0
	for ; i < cacheWays-1; i++ {
		if set.hashes[i] == h && set.ents[i].set && set.ents[i].key == key {
			break
		}
	}
	e := set.ents[i]
	if set.hashes[i] != h || !e.set || e.key != key {
		// A miss: the last entry makes room.
		c.held -= e.size
		e = cacheEntry[V]{}
	}
	copy(set.hashes[1:i+1], set.hashes[:i])
	copy(set.ents[1:i+1], set.ents[:i])
	set.hashes[0], set.ents[0] = h, e
	c.last = &set.ents[0]
	return c.last
}

// put stores key and v, of size bytes, in e (from entry), if the budget
// allows; it reports whether it did.
func (c *strCache[V]) put(e *cacheEntry[V], key string, v V, size int) bool {
	if c.held+size > c.budget {
		return false
	}
	e.key, e.val, e.size, e.set = key, v, size, true
	c.held += size
	return true
}
