package evtx

import (
	"os"
	"sync/atomic"
)

// fileMap is an EVTX file mapped read-only into memory (on Linux, see
// mapFile): a chunk is then a slice of the mapping instead of a 64 KiB copy
// made by pread, which was a quarter of the reader's CPU with replay's
// filter. The bytes are the file's either way. So that the resident set
// stays bounded whatever the file size, the pages of a window of chunks are
// dropped once every chunk of the window has been decoded; the mapping
// itself goes at Close.
//
// A file that shrinks while it is read makes a read of the mapping past
// its new end fault, and so does an I/O error (pread would return it): the
// decoding goroutines turn that fault into a panic (debug.SetPanicOnFault),
// which decodeChunk reports as that chunk's error (ErrUnreadable).
type fileMap struct {
	data  []byte
	first int            // first chunk slot read (Options.Start)
	done  []atomic.Int32 // chunks decoded, per window
}

// mapWindow is the number of chunks per window (2 MiB): a few windows are
// resident at a time, about one per worker. Each drop of a window is a
// TLB shootdown that interrupts the other cores running the process
// (about 40 µs a drop in this VM with two workers): with 512 KiB windows
// the drops were 5% of a two-core replay's CPU on tools/evtxbench's mixed
// file, 2.6% with 2 MiB, and a replay's peak RSS on 1 GiB was no higher
// (58.4 to 60.2 MiB against 59.8 to 62.1, four runs each; its bound is
// 64 MiB).
const mapWindow = 32

// mapFrom maps f (the reader's source, of known size) when the system allows.
func (r *Reader) mapFrom(f *os.File) {
	data := mapFile(f, r.size)
	if data == nil {
		return
	}
	n := int(r.limit.Load())
	r.mem = &fileMap{data: data, first: r.next, done: make([]atomic.Int32, (n+mapWindow-1)/mapWindow)}
}

// chunk returns the n bytes of the chunk slot at file offset off.
func (m *fileMap) chunk(off, n int64) []byte { return m.data[off : off+n : off+n] }

// release records that chunk slot i (of nchunks) has been decoded, and
// drops its window's pages when it was the window's last.
func (m *fileMap) release(i, nchunks int) {
	w := i / mapWindow
	lo, hi := max(w*mapWindow, m.first), min((w+1)*mapWindow, nchunks)
	if int(m.done[w].Add(1)) != hi-lo {
		return
	}
	from := int64(fileHeaderBlock) + int64(lo)*chunkSize
	to := min(int64(fileHeaderBlock)+int64(hi)*chunkSize, int64(len(m.data)))
	if from < to {
		dropPages(m.data[from:to])
	}
}

func (m *fileMap) close() error { return unmapFile(m.data) }
