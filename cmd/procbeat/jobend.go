package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/procbeat/procbeat/beater"
)

// jobFailure is why a replay or coverage job failed, nil when it did not:
// what Replay returned (input errors excepted: the summary lists them and
// the exit code says 3), what closing the pipeline returned, and whether
// it was interrupted. Before, the summary said "errors: none" and the
// error followed it, contradicting it.
func jobFailure(replayErr, closeErr, interrupted error) error {
	var parts []string
	if interrupted != nil || errors.Is(replayErr, context.Canceled) {
		parts = append(parts, "interrupted")
	}
	if replayErr != nil && !errors.Is(replayErr, beater.ErrInputErrors) && !errors.Is(replayErr, context.Canceled) {
		parts = append(parts, replayErr.Error())
	}
	if closeErr != nil {
		parts = append(parts, "delivery: "+closeErr.Error())
	}
	if len(parts) == 0 {
		return nil
	}
	return errors.New(strings.Join(parts, "; "))
}

// failJob ends a job that failed. When it read something, the summary
// names the failure where it would have said "errors: none", then the exit
// status follows; when it failed before reading (a path that does not
// exist), there is nothing to summarise and the error alone is printed.
func failJob(w io.Writer, sum beater.Summary, failure error) error {
	if sum.Files == 0 && sum.Records == 0 && sum.Resumed == 0 {
		return failure
	}
	sum.Failure = failure.Error()
	sum.Write(w)
	return exitWith(w, ExitFatal)
}

// exitWith prints the exit status a script will see, with where it is
// explained, and returns it.
func exitWith(w io.Writer, code int) error {
	fmt.Fprintf(w, "exit status %d (procbeat replay --help explains it)\n", code)
	return exitError{code}
}
