package merge

import (
	"encoding/binary"
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
// Words that hold pointers are kept in a []unsafe.Pointer, so that the
// garbage collector still sees (and keeps) what the held document points
// to; the other words (mostly string lengths, small) as varints in a byte
// stream, each after the distance from the previous word kept.

const wordSize = unsafe.Sizeof(uintptr(0))

// layout is where document.Document holds pointers, word by word, and
// the base the Merger's documents are packed against.
type layout struct {
	n     int // words in a document
	ptr   []bool
	base  document.Document
	based bool
	// ptrs and words collect a document before it is copied to its slot,
	// at its size.
	ptrs  []unsafe.Pointer
	words []byte
}

// documentLayout reads document.Document's layout once per Merger (New),
// never per record.
func documentLayout() layout {
	t := reflect.TypeFor[document.Document]()
	l := layout{n: int(t.Size() / wordSize)}
	l.ptr = make([]bool, l.n)
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
// when a slot gets a document larger than any it held before (fit).
type packed struct {
	// words is, for each word that differs from the base, the distance
	// from the previous one (uvarint) and, unless it is a pointer, its
	// value (uvarint).
	words []byte
	ptrs  []unsafe.Pointer
}

// pack stores d into p.
func (l *layout) pack(p *packed, d *document.Document) {
	if !l.based {
		l.base, l.based = *d, true
	}
	l.ptrs, l.words = l.ptrs[:0], l.words[:0]
	doc, base := unsafe.Pointer(d), unsafe.Pointer(&l.base)
	last := -1
	for i := range l.n {
		off := uintptr(i) * wordSize
		if l.ptr[i] {
			v := *(*unsafe.Pointer)(unsafe.Add(doc, off))
			if v == *(*unsafe.Pointer)(unsafe.Add(base, off)) {
				continue
			}
			l.words = binary.AppendUvarint(l.words, uint64(i-last))
			l.ptrs = append(l.ptrs, v)
		} else {
			v := *(*uintptr)(unsafe.Add(doc, off))
			if v == *(*uintptr)(unsafe.Add(base, off)) {
				continue
			}
			l.words = binary.AppendUvarint(l.words, uint64(i-last))
			l.words = binary.AppendUvarint(l.words, uint64(v))
		}
		last = i
	}
	p.ptrs = fit(p.ptrs, l.ptrs)
	p.words = fit(p.words, l.words)
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
	doc := unsafe.Pointer(d)
	i, pi := -1, 0
	for b := p.words; len(b) > 0; {
		gap, n := binary.Uvarint(b)
		b = b[n:]
		i += int(gap)
		w := unsafe.Add(doc, uintptr(i)*wordSize)
		if l.ptr[i] {
			*(*unsafe.Pointer)(w) = p.ptrs[pi]
			pi++
			continue
		}
		v, n := binary.Uvarint(b)
		b = b[n:]
		*(*uintptr)(w) = uintptr(v)
	}
}

// release drops what p points to, keeping its capacity.
func (p *packed) release() {
	clear(p.ptrs)
	p.ptrs = p.ptrs[:0]
	p.words = p.words[:0]
}
