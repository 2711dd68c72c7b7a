package mapping

import (
	"unsafe"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/internal/lower"
)

// chunks hands out slices carved from larger blocks, so that the values a
// document alone holds (its message, event id, call stack) cost a share of
// an allocation instead of one each.
//
// What it hands out is never written again: a block is only filled past
// what was handed out, and a full block is replaced, never reused. So a
// document keeps its values however long the pipeline or the merger holds
// it, and a block lives as long as one of its values does. Values the
// tracker keeps (per process) must not come from here: a long-lived
// process would pin a whole block.
type chunks[T any] struct {
	buf  []T
	size int // elements per block
}

// take returns n elements, zero or as the caller will fill them once, before
// handing them to a document.
func (c *chunks[T]) take(n int) []T {
	if n == 0 {
		return nil
	}
	if n > cap(c.buf)-len(c.buf) {
		if n > c.size/4 {
			// Large: its own allocation, rather than most of a block.
			return make([]T, n)
		}
		c.buf = make([]T, 0, c.size)
	}
	l := len(c.buf)
	c.buf = c.buf[:l+n]
	return c.buf[l : l+n : l+n]
}

// arena holds a Mapper's per-document values.
type arena struct {
	bytes chunks[byte]
	// ids holds event ids apart: the pipeline keeps a document's id
	// (its _id) until the output acknowledges it, long after the rest of
	// the document was encoded, and an id must not keep a block of
	// messages and arguments alive.
	ids     chunks[byte]
	strings chunks[string]
	frames  chunks[document.ProcessThreadExtCallStack]
}

func (a *arena) init() {
	a.bytes.size = 16 << 10
	a.ids.size = 4 << 10
	a.strings.size = 256
	a.frames.size = 256
}

// stringsOf returns a copy of s that lives in the arena.
func (a *arena) stringsOf(s []string) []string {
	out := a.strings.take(len(s))
	copy(out, s)
	return out
}

// lower returns strings.ToLower(s), in the arena.
func (a *arena) lower(s string) string {
	if s == "" {
		return ""
	}
	// ASCII lower-cases in place; other text may change length, and
	// Append then gives a new array (immutable all the same).
	b := lower.Append(a.bytes.take(len(s))[:0], s)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// string returns a copy of b that lives in the arena.
func (a *arena) string(b []byte) string { return copyString(&a.bytes, b) }

// id returns a copy of the event id b that lives in the arena.
func (a *arena) id(b []byte) string { return copyString(&a.ids, b) }

func copyString(c *chunks[byte], b []byte) string {
	if len(b) == 0 {
		return ""
	}
	s := c.take(len(b))
	copy(s, b)
	// s is never written again (see chunks).
	return unsafe.String(&s[0], len(s))
}
