package beater

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/procbeat/procbeat/logging"
)

// Summary counts what a replay did.
type Summary struct {
	Files   int
	Records int64 // records decoded
	// Skipped counts records read and not sent again because they lie
	// before a checkpoint: only dead-letter files are read so (other
	// sources open at their checkpoint and read nothing before it).
	Skipped int64
	// Resumed counts the sources opened at their checkpoint: what lay
	// before it (delivered by an earlier run) was not read at all, so no
	// record count exists for it.
	Resumed int
	Docs    map[string]int64 // by kind: start, end, access, none (not a process event)
	Errors  map[string]int64 // by kind: open, read, decode, mapping, no events
	// Failed holds, by path, every file with an error of any kind above.
	Failed map[string]FileErrors

	// Resent counts the documents of dead-letter files shipped again.
	Resent int64
	// DeadLettered counts the documents Elasticsearch rejected for good in
	// this run, set aside in DeadLetterPath (see Beater.AddDelivery).
	DeadLettered   int64
	DeadLetterPath string
	// WarningsNotShown counts per-record warnings past MaxWarningsPerFile.
	WarningsNotShown int64
	// Delivery, when set, says why documents were not delivered (the
	// output was unreachable); the job then failed whatever the inputs.
	Delivery string
	// RotatedAway lists output files written by this run that rotation
	// deleted: their documents are lost.
	RotatedAway []string
	// Failure, when set, says why the job failed after reading began (an
	// interruption, a delivery that did not end); the errors line must
	// not then say none.
	Failure string
}

// FileErrors are one file's problems.
type FileErrors struct {
	// Decode counts the decode errors: records that are not well-formed
	// events, and damaged parts of EVTX files (a chunk with a bad magic,
	// a failed checksum or cut short, a file header with a failed
	// checksum), each once whatever the records it held, as README says;
	// Mapping the events whose values cannot make a document; Value the
	// values left out of the documents made (a malformed hash).
	Decode, Mapping, Value int64
	// Problem says why the file could not be read, or that it holds no
	// Windows event at all; empty when it was read to its end.
	Problem string
}

// Error kinds of Summary.Errors.
const (
	ErrorOpen     = "open"           // the file could not be opened or its format told
	ErrorRead     = "read"           // reading stopped before the end
	ErrorDecode   = "decode"         // a record that is not a well-formed event
	ErrorMapping  = "mapping"        // an event whose values cannot make a document
	ErrorValue    = "value left out" // a value left out of the document made of its event
	ErrorNoEvents = "no events"      // a text file (XML, JSON) holding no Windows event
)

// ErrNoEvents is the problem of a text file in which no Windows event could
// be found: unrelated JSON, XML that is not event XML, an empty file. An
// EVTX file with a valid header is a Windows log even when it holds no
// record, so it never has this problem.
var ErrNoEvents = errors.New("holds no Windows event (rendered event XML, a JSON export or EVTX)")

// ErrInputErrors marks the error Replay returns when files could not be
// read; the summary lists them.
var ErrInputErrors = errors.New("input errors")

// maxListedFiles bounds the summary's list of failed files; the log has
// every one.
const maxListedFiles = 50

func newSummary() Summary {
	return Summary{Docs: map[string]int64{}, Errors: map[string]int64{}, Failed: map[string]FileErrors{}}
}

func (s Summary) clone() Summary {
	s.Docs, s.Errors, s.Failed = maps.Clone(s.Docs), maps.Clone(s.Errors), maps.Clone(s.Failed)
	return s
}

// recordErrors counts n records of path that could not be decoded or
// mapped, or n values left out of documents (kind ErrorDecode,
// ErrorMapping or ErrorValue).
func (s *Summary) recordErrors(path, kind string, n int64) {
	s.Errors[kind] += n
	fe := s.Failed[path]
	switch kind {
	case ErrorMapping:
		fe.Mapping += n
	case ErrorValue:
		fe.Value += n
	default:
		fe.Decode += n
	}
	s.Failed[path] = fe
}

// fileFailed records why path could not be read or gave nothing (kind
// ErrorOpen, ErrorRead or ErrorNoEvents).
func (s *Summary) fileFailed(path, kind string, problem error) {
	s.Errors[kind]++
	fe := s.Failed[path]
	// The list names the file already (some errors name it twice).
	msg := problem.Error()
	for strings.HasPrefix(msg, path+": ") {
		msg = strings.TrimPrefix(msg, path+": ")
	}
	fe.Problem = msg
	s.Failed[path] = fe
}

// InputErrors reports whether any input could not be read or decoded.
func (s Summary) InputErrors() bool {
	for _, n := range s.Errors {
		if n > 0 {
			return true
		}
	}
	return len(s.Failed) > 0
}

// Documents is the number of documents emitted.
func (s Summary) Documents() int64 { return s.Docs["start"] + s.Docs["end"] + s.Docs["access"] }

// Write prints the summary for a person.
func (s Summary) Write(w io.Writer) {
	fmt.Fprintf(w, "files: %d, records read: %d", s.Files, s.Records)
	if s.Skipped > 0 {
		fmt.Fprintf(w, ", already delivered (skipped): %d", s.Skipped)
	}
	if s.Resumed > 0 {
		fmt.Fprintf(w, ", resumed from a checkpoint: %s (what lay before their checkpoints was delivered earlier and not read again)", plural(int64(s.Resumed), "file"))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "documents: %d (start %d, end %d, access %d); records that are not process events: %d\n",
		s.Documents(), s.Docs["start"], s.Docs["end"], s.Docs["access"], s.Docs["none"])
	if s.Resent > 0 {
		fmt.Fprintf(w, "dead letters shipped again: %d\n", s.Resent)
	}
	if s.DeadLettered > 0 {
		fmt.Fprintf(w, "dead letters kept in %s: fix the cause, then ship them again with: procbeat replay %s\n",
			s.DeadLetterPath, s.DeadLetterPath)
	}
	if s.WarningsNotShown > 0 {
		fmt.Fprintf(w, "record warnings not shown (over %d per file): %d\n", MaxWarningsPerFile, s.WarningsNotShown)
	}
	var errs []string
	for _, k := range slices.Sorted(maps.Keys(s.Errors)) {
		if s.Errors[k] > 0 {
			errs = append(errs, fmt.Sprintf("%s %d", k, s.Errors[k]))
		}
	}
	if n := len(s.RotatedAway); n > 0 {
		// A warning, not an error: the output did as configured.
		fmt.Fprintf(w, "warning: output files deleted by rotation: %d written by this run, their documents lost (raise output.file.number_of_files): %s\n",
			n, strings.Join(s.RotatedAway[:min(n, maxListedFiles)], ", "))
	}
	if s.Delivery != "" {
		fmt.Fprintf(w, "delivery FAILED: %s\n", s.Delivery)
		errs = append(errs, "delivery failed")
	}
	if s.Failure != "" {
		fmt.Fprintf(w, "FAILED: %s\n", logging.Clean(s.Failure))
		errs = append(errs, "job failed")
	}
	if len(errs) == 0 {
		fmt.Fprintln(w, "errors: none")
		return
	}
	fmt.Fprintf(w, "errors: %s\n", strings.Join(errs, ", "))
	if len(s.Failed) == 0 {
		return
	}
	fmt.Fprintf(w, "files with errors: %d\n", len(s.Failed))
	paths := slices.Sorted(maps.Keys(s.Failed))
	for _, p := range paths[:min(len(paths), maxListedFiles)] {
		fe := s.Failed[p]
		var what []string
		// Decode errors are records, or damaged parts of an EVTX file
		// (FileErrors.Decode).
		if fe.Decode > 0 {
			what = append(what, plural(fe.Decode, "decode error"))
		}
		if fe.Mapping > 0 {
			what = append(what, plural(fe.Mapping, "mapping error"))
		}
		if fe.Value > 0 {
			what = append(what, plural(fe.Value, "value")+" left out")
		}
		if fe.Problem != "" {
			what = append(what, fe.Problem)
		}
		// Paths and problems come from the input: escaped for the terminal.
		fmt.Fprintf(w, "  %s: %s\n", logging.Clean(p), logging.Clean(strings.Join(what, "; ")))
	}
	if len(paths) > maxListedFiles {
		fmt.Fprintf(w, "  and %d more (see the log)\n", len(paths)-maxListedFiles)
	}
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
