// Package decode holds what the event decoders (xmlevent, jsonevent and the
// EVTX reader plugged in through package source) share: the per-record error
// type, a bounded error log, common options and the Reader interface the
// mapping consumes.
package decode

import (
	"errors"
	"fmt"
	"time"

	"github.com/procbeat/procbeat/winevent"
)

// Reader is the iterator every decoder implements:
//
//	for r.Next() { rec := r.Record() ... }
//	if err := r.Err(); err != nil { ... } // fatal (I/O) error only
//
// Records that cannot be decoded are skipped; each is reported as a
// *RecordError through Options.OnError and kept in Errors().
type Reader interface {
	// Next advances to the next good record. It returns false at the end
	// of the input or on a fatal error.
	Next() bool
	// Record returns the current record. It is valid until the next call
	// to Next, which reuses it.
	Record() *winevent.Record
	// Err returns the fatal error that stopped Next, or nil at a clean end.
	Err() error
	// Errors returns the first Options.MaxErrors per-record errors.
	Errors() []*RecordError
	// ErrorCount returns how many per-record errors occurred in total.
	ErrorCount() int
}

// Defaults for Options.
const (
	DefaultMaxErrors = 100
)

// Options tune a decoder. The zero value is usable.
type Options struct {
	// MaxRecordSize caps the encoded size of one record in bytes; larger
	// records are skipped and reported. Zero means the decoder's default.
	MaxRecordSize int
	// MaxErrors is how many per-record errors Errors keeps (the count goes
	// on). Zero means DefaultMaxErrors; negative keeps none.
	MaxErrors int
	// OnError, when set, is called for every per-record error as it
	// happens, before decoding continues.
	OnError func(*RecordError)
	// Location is the zone of timestamps that carry none (NXLog's
	// EventTime, OTRF's TimeCreated: the wall clock of the machine that
	// rendered the record). Nil: the zone the record's own UTC @timestamp
	// tells, else UTC, with a notice (see jsonevent).
	Location *time.Location
	// Notice, when set, receives what a person should know that is not an
	// error: a zone-less time read as UTC for want of its zone.
	Notice func(msg string)
	// Growing says the input may still be written to (procbeat run
	// watches its files): an export that ends inside its container (an
	// array, <Events>) is being written, not cut, and is not reported.
	Growing bool
	// From is the byte offset reading starts at (resuming from a
	// checkpoint; 0: the input's start). Lines and record indexes are
	// then counted from there, which messages say.
	From int64
}

// RecordError describes one record that could not be decoded. File, Line,
// Index and Field say where; Err says what.
type RecordError struct {
	File  string // name given to the decoder
	Line  int    // 1-based line where the record starts, 0 if unknown
	Index int    // 1-based record index in the file (good and bad records)
	Field string // offending field, empty when the record as a whole is bad
	Err   error
	// From is where reading started when it resumed (Options.From): Line
	// and Index count from that byte, not from the input's start.
	From int64
}

func (e *RecordError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	loc += ResumedNote(e.From)
	// Index 0 is a problem above any record (an EVTX chunk).
	rec := ""
	if e.Index > 0 {
		rec = fmt.Sprintf(" record %d:", e.Index)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s:%s field %s: %v", loc, rec, e.Field, e.Err)
	}
	return fmt.Sprintf("%s:%s %v", loc, rec, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// ResumedNote is what a place in an input read from byte from on (a
// resumed read) adds to its line and record numbers, which count from
// there: a line 5 that is the file's 13th must not send anyone to line 5.
// It is "" for a read from the start (from 0).
func ResumedNote(from int64) string {
	if from <= 0 {
		return ""
	}
	return fmt.Sprintf(" (line and record counted from byte %d, where reading resumed)", from)
}

// ErrorLog keeps the first few per-record errors and counts all of them,
// so a file full of garbage cannot grow memory without bound.
type ErrorLog struct {
	max     int
	onError func(*RecordError)
	kept    []*RecordError
	total   int
}

// NewErrorLog returns a log configured from opts.
func NewErrorLog(opts Options) ErrorLog {
	max := opts.MaxErrors
	if max == 0 {
		max = DefaultMaxErrors
	}
	return ErrorLog{max: max, onError: opts.OnError}
}

// Add records e.
func (l *ErrorLog) Add(e *RecordError) {
	l.total++
	if l.onError != nil {
		l.onError(e)
	}
	if len(l.kept) < l.max {
		l.kept = append(l.kept, e)
	}
}

// Errors returns the kept errors.
func (l *ErrorLog) Errors() []*RecordError { return l.kept }

// Total returns the number of errors added.
func (l *ErrorLog) Total() int { return l.total }

// Base is what every text decoder keeps about its input; embedding it gives
// a decoder the Reader methods other than Next.
type Base struct {
	Name  string          // the input, as errors name it
	Index int             // 1-based index of the current record, good and bad
	Line  int             // 1-based line where the current record starts, 0 if unknown
	Rec   winevent.Record // the current record, reused by Next
	Fatal error           // what stopped Next, nil at a clean end
	Log   ErrorLog        // per-record errors
	From  int64           // Options.From: where Line and Index count from
}

// Record returns the current record; Next reuses it.
func (b *Base) Record() *winevent.Record { return &b.Rec }

// Where returns the line where the current record starts (0 if unknown)
// and its index: how messages about the record after it was decoded (a
// mapping error) place it, as the decoder's own errors do.
func (b *Base) Where() (line, index int, from int64) { return b.Line, b.Index, b.From }

// Err returns the fatal read error, if any.
func (b *Base) Err() error { return b.Fatal }

// Errors returns the kept per-record errors.
func (b *Base) Errors() []*RecordError { return b.Log.Errors() }

// ErrorCount returns the number of per-record errors.
func (b *Base) ErrorCount() int { return b.Log.Total() }

// Report records a bad record at line (0 if unknown) and field (may be
// empty) of the current index.
func (b *Base) Report(line int, field string, err error) {
	b.Log.Add(&RecordError{File: b.Name, Line: line, Index: b.Index, Field: field, Err: err, From: b.From})
}

// ErrTruncated is matched by the error of a text export that ends inside
// its container (a JSON array with no closing ']', an XML root element
// with no end tag): a copy cut between two records looks complete
// otherwise. The records before the cut are delivered.
var ErrTruncated = errors.New("input is truncated")

// ReportTruncated records that the input ended, at line, inside container
// (as a person would name it), after the current record. It is reported
// like a bad record, with no record index (it is no record's fault), so it
// counts where an EVTX chunk cut short counts: a file not readable to its
// end.
func (b *Base) ReportTruncated(line int, container string) {
	b.Log.Add(&RecordError{File: b.Name, Line: line, From: b.From,
		Err: fmt.Errorf("%w: it ends inside %s, after record %d", ErrTruncated, container, b.Index)})
}
