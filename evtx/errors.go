package evtx

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	ErrNotEVTX        = errors.New("not an EVTX file (bad file magic)")
	ErrFileChecksum   = errors.New("file header checksum mismatch")
	ErrBadChunkMagic  = errors.New("bad chunk magic")
	ErrHeaderChecksum = errors.New("chunk header checksum mismatch")
	ErrDataChecksum   = errors.New("chunk event records checksum mismatch")
	ErrTruncated      = errors.New("truncated data")
	ErrRecordSize     = errors.New("invalid record size")
	ErrZeroSize       = errors.New("record with zero data size")
	ErrRecordMagic    = errors.New("bad record magic")
	ErrBadOffset      = errors.New("offset out of range")
	ErrBadToken       = errors.New("unknown BinXML token")
	ErrDepth          = errors.New("BinXML nesting too deep")
	ErrRecursion      = errors.New("recursive template")
	ErrTooLarge       = errors.New("structure exceeds decoder limits")
	ErrPanic          = errors.New("internal decoder panic")
	// ErrUnreadable is a read of a memory-mapped file that faulted: the
	// file shrank while it was read, or the disk failed.
	ErrUnreadable = errors.New("file unreadable while mapped (it shrank, or an I/O error)")
)

// recovered turns what a decoding goroutine recovered into the error to
// report: a memory fault (debug.SetPanicOnFault's runtime.Error carries the
// address) is the file's, anything else the decoder's.
func recovered(r any) error {
	if f, ok := r.(interface{ Addr() uintptr }); ok {
		return fmt.Errorf("%w: fault at address %#x", ErrUnreadable, f.Addr())
	}
	return fmt.Errorf("%w: %v", ErrPanic, r)
}

// RecordError reports a record that could not be decoded. Its neighbours are
// still delivered.
type RecordError struct {
	File   string
	Chunk  int    // chunk index in the file (0-based, by position)
	Record uint64 // record id from the record header, 0 if unreadable
	Offset int64  // file offset of the record
	Err    error
}

func (e *RecordError) Error() string { return e.File + ": " + e.Where() + ": " + e.Err.Error() }

// Where names the record in the file without the file's name: its chunk,
// its record id when readable and its file offset.
func (e *RecordError) Where() string {
	if e.Record == 0 {
		// No record has id 0: the header holding it is unreadable.
		return fmt.Sprintf("chunk %d record at file offset %#x", e.Chunk, e.Offset)
	}
	return fmt.Sprintf("chunk %d record %d (file offset %#x)", e.Chunk, e.Record, e.Offset)
}

func (e *RecordError) Unwrap() error { return e.Err }

// ChunkError reports a problem with a whole chunk: bad magic (the chunk is
// skipped) or a checksum mismatch (its records are still decoded).
type ChunkError struct {
	File   string
	Chunk  int
	Offset int64 // file offset of the chunk
	Err    error
}

func (e *ChunkError) Error() string { return e.File + ": " + e.Where() + ": " + e.Err.Error() }

// Where names the chunk in the file without the file's name.
func (e *ChunkError) Where() string {
	return fmt.Sprintf("chunk %d (file offset %#x)", e.Chunk, e.Offset)
}

func (e *ChunkError) Unwrap() error { return e.Err }

// FileError reports a problem with the file header.
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string { return fmt.Sprintf("%s: %v", e.File, e.Err) }

func (e *FileError) Unwrap() error { return e.Err }
