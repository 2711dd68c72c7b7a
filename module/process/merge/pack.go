package merge

import (
	"math/bits"
	"reflect"
	"unsafe"

	"github.com/procbeat/procbeat/fields/document"
)

// A held document is kept packed: only the machine words in which it
// differs from a base document (the first one the Merger held). A
// document.Document is about 2.3 KiB, most of it zero or the same in
// every document (agent, data stream, event kind and module...); with
// MaxHeld records held (a replay whose event time rewinds keeps the hold
// full) the documents held by value were the largest part of a replay's
// live heap. Packing copies every word as it is, so the unpacked document
// is the document that was held, bit for bit, whatever fields the
// document type has or gains.
//
// Words that hold pointers are kept in a []unsafe.Pointer, so that the
// garbage collector still sees (and keeps) what the held document points
// to; the other words are kept as plain integers.

const wordSize = unsafe.Sizeof(uintptr(0))

// layout is where document.Document holds pointers, word by word, and
// the base the Merger's documents are packed against.
type layout struct {
	words int
	ptr   []bool
	base  document.Document
	based bool
	// ptrs and vals collect a document's words before they are copied to
	// its slot, at their size.
	ptrs []unsafe.Pointer
	vals []uintptr
}

// documentLayout reads document.Document's layout once per Merger (New),
// never per record.
func documentLayout() layout {
	t := reflect.TypeFor[document.Document]()
	l := layout{words: int(t.Size() / wordSize)}
	l.ptr = make([]bool, l.words)
	markPointers(t, 0, l.ptr)
	return l
}

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
// while the hold grows.
type packed struct {
	set  []uint64 // bit i: word i is not zero
	ptrs []unsafe.Pointer
	vals []uintptr
}

// pack stores d into p.
func (l *layout) pack(p *packed, d *document.Document) {
	if !l.based {
		l.base, l.based = *d, true
	}
	n := (l.words + 63) / 64
	if cap(p.set) < n {
		p.set = make([]uint64, n)
	}
	p.set = p.set[:n]
	clear(p.set)
	l.ptrs, l.vals = l.ptrs[:0], l.vals[:0]
	doc, base := unsafe.Pointer(d), unsafe.Pointer(&l.base)
	for i := range l.words {
		off := uintptr(i) * wordSize
		if l.ptr[i] {
			v := *(*unsafe.Pointer)(unsafe.Add(doc, off))
			if v == *(*unsafe.Pointer)(unsafe.Add(base, off)) {
				continue
			}
			l.ptrs = append(l.ptrs, v)
		} else {
			v := *(*uintptr)(unsafe.Add(doc, off))
			if v == *(*uintptr)(unsafe.Add(base, off)) {
				continue
			}
			l.vals = append(l.vals, v)
		}
		p.set[i/64] |= 1 << (i % 64)
	}
	p.ptrs = fit(p.ptrs, l.ptrs)
	p.vals = fit(p.vals, l.vals)
	clear(l.ptrs) // the scratch must not keep what d points to
}

// fit copies src into dst, reallocating dst only when it is too small,
// with some room so that a slot settles on a size.
func fit[E any](dst, src []E) []E {
	if cap(dst) < len(src) {
		dst = make([]E, len(src), len(src)+len(src)/4+4)
	}
	dst = dst[:len(src)]
	copy(dst, src)
	return dst
}

// unpack writes the document p holds into d.
func (l *layout) unpack(d *document.Document, p *packed) {
	*d = l.base
	base := unsafe.Pointer(d)
	pi, vi := 0, 0
	for j, set := range p.set {
		for set != 0 {
			i := j*64 + bits.TrailingZeros64(set)
			set &= set - 1
			w := unsafe.Add(base, uintptr(i)*wordSize)
			if l.ptr[i] {
				*(*unsafe.Pointer)(w) = p.ptrs[pi]
				pi++
			} else {
				*(*uintptr)(w) = p.vals[vi]
				vi++
			}
		}
	}
}

// release drops what p points to, keeping its capacity.
func (p *packed) release() {
	clear(p.ptrs)
	p.ptrs = p.ptrs[:0]
	p.vals = p.vals[:0]
}
