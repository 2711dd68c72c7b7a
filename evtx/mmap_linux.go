//go:build linux

package evtx

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f read-only, or returns nil when it cannot
// (the caller then reads with pread, as on other systems).
func mapFile(f *os.File, size int64) []byte {
	if size <= 0 || int64(int(size)) != size {
		return nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	return b
}

// dropPages tells the kernel that this process is done with b (a page
// aligned part of a mapping): its pages leave the process's resident set
// but stay in the page cache, and touching b again reads them back, so a
// late reader of b sees the file, not zeros.
func dropPages(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }

func unmapFile(b []byte) error { return syscall.Munmap(b) }
