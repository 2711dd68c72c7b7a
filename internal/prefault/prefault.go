// Package prefault writes a new array's pages before anything reads them.
//
// The pages of a new array in the Go heap are mapped by the kernel when
// first touched. When the first touch is a read, the page is mapped to the
// kernel's shared zero page, and the first write after it is a second,
// copy-on-write fault, which must flush the address from the TLB of every
// CPU the process runs on: with two cores, an interprocessor interrupt per
// page (about 20 µs of CPU in the VM we measure on, where they were 5% of a
// two-core replay's). Reads come first in the arrays of hash tables and
// caches, which look at a slot before they fill it, and in large arrays of
// pointers, whose capacity the garbage collector scans before it is used.
// Written first, each page costs one ordinary fault.
package prefault

// Slice writes zeros over s up to its capacity. Call it on a newly made
// array only: it clears what s holds.
func Slice[T any](s []T) { clear(s[:cap(s)]) }
