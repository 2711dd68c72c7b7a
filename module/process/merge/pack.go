package merge

import (
	"math/bits"
	"reflect"
	"unsafe"

	"github.com/procbeat/procbeat/fields/document"
)

// A held document is kept packed: only the machine words in which it
// differs from a base document (the first one the Merger held, kept,
// with what it points to, as long as the Merger). A
// document.Document is about 2.3 KiB, most of it zero or the same in
// every document (agent, data stream, event kind and module...); with
// MaxHeld records held (a replay whose event time rewinds keeps the hold
// full) the documents held by value were the largest part of a replay's
// live heap. Packing copies every word as it is, so the unpacked document
// is the document that was held, bit for bit, whatever fields the
// document type has or gains.
//
// Which words differ is a bitmap; words that hold pointers are kept in a
// []unsafe.Pointer, so that the garbage collector still sees (and keeps)
// what the held document points to, the other words in a []uintptr, each
// in the order of the document. A replay packs and unpacks about every
// other document it holds: the bitmap and whole words cost a few hundred
// bytes more per held document than varints of the distances and values
// did, and half the time (BenchmarkMergeHold).

const wordSize = unsafe.Sizeof(uintptr(0))

// layout is where document.Document holds pointers, word by word, and
// the base the Merger's documents are packed against.
type layout struct {
	n   int      // words in a document
	ptr []uint64 // bitmap: the words that hold pointers
	// base is the document packed against.
	base  document.Document
	based bool
}

// documentLayout reads document.Document's layout once per Merger (New),
// never per record.
func documentLayout() layout {
	t := reflect.TypeFor[document.Document]()
	l := layout{n: int(t.Size() / wordSize)}
	ptr := make([]bool, l.n)
	markPointers(t, 0, ptr)
	l.ptr = make([]uint64, bitmapWords(l.n))
	for i, p := range ptr {
		if p {
			l.ptr[i/64] |= 1 << (i % 64)
		}
	}
	return l
}

// bitmapWords is the length of a bitmap of n words.
func bitmapWords(n int) int { return (n + 63) / 64 }

func markPointers(t reflect.Type, off uintptr, ptr []bool) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer,
		reflect.String, reflect.Slice:
		// The first word of a string or slice header is its data pointer.
		ptr[off/wordSize] = true
	case reflect.Interface:
		ptr[off/wordSize] = true
		ptr[off/wordSize+1] = true
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			markPointers(f.Type, off+f.Offset, ptr)
		}
	case reflect.Array:
		for i := range t.Len() {
			markPointers(t.Elem(), off+uintptr(i)*t.Elem().Size(), ptr)
		}
	}
}

// packed is one held document. Its slices keep their capacity from one
// held record to the next of the same slot, so holding allocates only
// when a slot gets a document larger than any it held before (fit).
type packed struct {
	// diff marks the words that differ from the base; ptrs and vals are
	// their values, pointers and others, in word order.
	diff []uint64
	ptrs []unsafe.Pointer
	vals []uintptr
}

// pack stores d into p: a pass that finds the words differing from the
// base, then one over those words. About a fifth of the words of a
// mapped document differ, in about two fifths of the runs of four
// words: the first pass skips equal runs whole, and marks the words of
// the others without a branch per word (which ones differ varies from
// one document to the next).
func (l *layout) pack(p *packed, d *document.Document) {
	if !l.based {
		l.base, l.based = *d, true
	}
	if cap(p.diff) < len(l.ptr) {
		p.diff = make([]uint64, len(l.ptr))
	}
	p.diff = p.diff[:len(l.ptr)]
	clear(p.diff)
	doc, base := unsafe.Pointer(d), unsafe.Pointer(&l.base)
	dw, bw := unsafe.Slice((*uintptr)(doc), l.n), unsafe.Slice((*uintptr)(base), l.n)
	n4 := l.n &^ 3
	for i := 0; i < n4; i += 4 {
		// i is a multiple of 4: the run's bits lie in one bitmap word.
		a, b := (*[4]uintptr)(dw[i:i+4]), (*[4]uintptr)(bw[i:i+4])
		if (a[0]^b[0])|(a[1]^b[1])|(a[2]^b[2])|(a[3]^b[3]) == 0 {
			continue
		}
		p.diff[i/64] |= (ne(a[0], b[0]) | ne(a[1], b[1])<<1 | ne(a[2], b[2])<<2 | ne(a[3], b[3])<<3) << (i % 64)
	}
	for j := n4; j < l.n; j++ {
		p.diff[j/64] |= ne(dw[j], bw[j]) << (j % 64)
	}
	np, nv := 0, 0
	for w, diff := range p.diff {
		np += bits.OnesCount64(diff & l.ptr[w])
		nv += bits.OnesCount64(diff &^ l.ptr[w])
	}
	p.ptrs, p.vals = fit(p.ptrs, np), fit(p.vals, nv)
	pi, vi := 0, 0
	for w, diff := range p.diff {
		for ptrs := diff & l.ptr[w]; ptrs != 0; ptrs &= ptrs - 1 {
			p.ptrs[pi] = *(*unsafe.Pointer)(unsafe.Add(doc, uintptr(w*64+bits.TrailingZeros64(ptrs))*wordSize))
			pi++
		}
		for vals := diff &^ l.ptr[w]; vals != 0; vals &= vals - 1 {
			p.vals[vi] = *(*uintptr)(unsafe.Add(doc, uintptr(w*64+bits.TrailingZeros64(vals))*wordSize))
			vi++
		}
	}
}

// ne is 1 when a and b differ, else 0, without a branch.
func ne(a, b uintptr) uint64 {
	x := uint64(a ^ b)
	return (x | -x) >> 63
}

// fit returns s with length n, reallocated only when it is too small,
// with some room so that a slot settles on a size. What lay past n is
// cleared: a slot must not keep what an earlier document pointed to.
func fit[E any](s []E, n int) []E {
	if cap(s) < n {
		return make([]E, n, n+n/4+4)
	}
	if len(s) > n {
		clear(s[n:]) // past len, released (cleared) or never used
	}
	return s[:n]
}

// unpack writes the document p holds into d.
func (l *layout) unpack(d *document.Document, p *packed) {
	*d = l.base
	doc := unsafe.Pointer(d)
	pi, vi := 0, 0
	for w, diff := range p.diff {
		for ptrs := diff & l.ptr[w]; ptrs != 0; ptrs &= ptrs - 1 {
			*(*unsafe.Pointer)(unsafe.Add(doc, uintptr(w*64+bits.TrailingZeros64(ptrs))*wordSize)) = p.ptrs[pi]
			pi++
		}
		for vals := diff &^ l.ptr[w]; vals != 0; vals &= vals - 1 {
			*(*uintptr)(unsafe.Add(doc, uintptr(w*64+bits.TrailingZeros64(vals))*wordSize)) = p.vals[vi]
			vi++
		}
	}
}

// release drops what p points to, keeping its capacity.
func (p *packed) release() {
	clear(p.ptrs)
	clear(p.diff)
	p.ptrs = p.ptrs[:0]
	p.vals = p.vals[:0]
}
