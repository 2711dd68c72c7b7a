package beater

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Summary counts what a replay did.
type Summary struct {
	Files   int
	Records int64            // records decoded
	Skipped int64            // records before a file's checkpoint, not sent again
	Docs    map[string]int64 // by kind: start, end, access, none (not a process event)
	Errors  map[string]int64 // by kind: open, read, decode, mapping

	// Resent counts the documents of dead-letter files shipped again.
	Resent int64
	// DeadLettered counts the documents Elasticsearch rejected for good in
	// this run, set aside in DeadLetterPath (see Beater.AddDelivery).
	DeadLettered   int64
	DeadLetterPath string
	// WarningsNotShown counts per-record warnings past MaxWarningsPerFile.
	WarningsNotShown int64
}

func newSummary() Summary {
	return Summary{Docs: map[string]int64{}, Errors: map[string]int64{}}
}

func (s Summary) clone() Summary {
	s.Docs, s.Errors = maps.Clone(s.Docs), maps.Clone(s.Errors)
	return s
}

// Documents is the number of documents emitted.
func (s Summary) Documents() int64 { return s.Docs["start"] + s.Docs["end"] + s.Docs["access"] }

// Write prints the summary for a person.
func (s Summary) Write(w io.Writer) {
	fmt.Fprintf(w, "files: %d, records read: %d, already delivered (skipped): %d\n", s.Files, s.Records, s.Skipped)
	fmt.Fprintf(w, "documents: %d (start %d, end %d, access %d); records that are not process events: %d\n",
		s.Documents(), s.Docs["start"], s.Docs["end"], s.Docs["access"], s.Docs["none"])
	if s.Resent > 0 {
		fmt.Fprintf(w, "dead letters shipped again: %d\n", s.Resent)
	}
	if s.DeadLettered > 0 {
		fmt.Fprintf(w, "DEAD-LETTERED: %d documents rejected by Elasticsearch, kept in %s; fix the cause, then ship them again with: procbeat replay %s\n",
			s.DeadLettered, s.DeadLetterPath, s.DeadLetterPath)
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
	if len(errs) == 0 {
		fmt.Fprintln(w, "errors: none")
		return
	}
	fmt.Fprintf(w, "errors: %s\n", strings.Join(errs, ", "))
}
