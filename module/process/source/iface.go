package source

import (
	"context"

	"github.com/procbeat/procbeat/winevent"
)

// Position is where a source stands after one of its records. It is opaque
// to everything but the source that made it: the pipeline carries it and
// the registry stores it verbatim once the output has acknowledged every
// record up to it, and the source is opened at it again after a restart.
//
// A record's position is not its identity: identity is the record's own
// System/EventRecordID (winevent.Record.RecordID), which repeats after a log
// is cleared and is out of order in a wrapped log.
type Position struct {
	// Offset is the source's own measure: the byte offset after the record
	// for XML and JSON exports, the physical place of the record for EVTX
	// files, the last delivered record id for live channels.
	Offset uint64
	// Check validates Offset where the bytes behind it can change (an EVTX
	// chunk overwritten by a wrapping log); zero when unused.
	Check uint64
	// Bookmark is a live channel's bookmark as the Windows Event Log
	// renders it (XML); empty for files.
	Bookmark string
}

// IsZero reports whether p is the zero Position (read from the start).
func (p Position) IsZero() bool { return p == Position{} }

// Locator is a Reader of an export (XML, JSON), whose records are placed
// by where they lie in the file: messages about a record name its line
// and index, as the decoder's own errors do, for an export's records may
// carry no EventRecordID at all.
type Locator interface {
	// Where is the current record's line (0 if unknown) and its 1-based
	// index among the file's records, good and bad, both counted from
	// byte from (not 0 when reading resumed there).
	Where() (line, index int, from int64)
}

// Source is one origin of records: an EVTX file, an XML or JSON export, a
// live event log channel. Every kind implements it the same way, so the
// runner, the pipeline and the registry need not know which kind it is.
type Source interface {
	// ID is the key the source's position is kept under in the registry.
	// It is stable across runs (a file's absolute path, a channel's name).
	ID() string
	// Open starts reading just after pos. The zero Position means the
	// source's configured start (a file's beginning).
	Open(ctx context.Context, pos Position) (Reader, error)
}

// Reader yields one source's records in order, each with the position after
// it.
type Reader interface {
	// Next advances to the next record. It returns false at the end of a
	// finite source, when ctx ends, or on a fatal error (see Err). Records
	// that cannot be decoded are reported through the decoder options'
	// OnError and skipped.
	Next(ctx context.Context) bool
	// Record is the current record, valid until the next call to Next.
	Record() *winevent.Record
	// Position is where the source stands after the current record:
	// opening the source at it resumes with the record that follows.
	Position() Position
	// Err is the fatal error that ended Next, or nil (the end, or ctx).
	Err() error
	// Close releases the reader.
	Close() error
}
