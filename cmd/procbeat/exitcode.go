package main

import (
	"fmt"
	"strings"
)

// Exit codes of procbeat replay, the one place they are defined. The
// README's table and `procbeat replay --help` are both written from
// exitCodes (a test checks the README).
const (
	// ExitOK: every file was read and every document delivered.
	ExitOK = 0
	// ExitFatal: nothing useful could be done, or the job was aborted: a
	// configuration error, a path that does not exist, an output that
	// cannot be set up, delivery that failed, an output unreachable for
	// --max-unreachable, an interruption.
	ExitFatal = 1
	// ExitInputErrors: some input could not be read or decoded (a file
	// that could not be opened or read to its end, a record that is not a
	// well-formed event or cannot be mapped, a text file holding no Windows
	// event); the documents of everything else were delivered. The summary
	// lists the files and their errors.
	ExitInputErrors = 3
	// ExitDeadLettered: the Elasticsearch output permanently rejected some
	// documents and wrote them to its dead-letter file; the output counts
	// them (monitoring counter events_dead_lettered).
	ExitDeadLettered = 4
)

// exitCodes describes the codes for people, in the order of the table.
var exitCodes = []struct {
	code    int
	meaning string
}{
	{ExitOK, "success: every file read, every document delivered"},
	{ExitFatal, "fatal error: configuration, a path that does not exist, an output that cannot start, failed delivery, an output that acknowledged nothing for --max-unreachable (the summary says \"delivery FAILED\"), interrupted"},
	{ExitInputErrors, "some input could not be read or decoded (a file not readable to its end, a record not decodable or mappable, a value left out of its document, a text file holding no Windows event); the documents from the rest were delivered and the summary lists the files with errors"},
	{ExitDeadLettered, "some documents were rejected by Elasticsearch and written to the dead-letter file (the output counts them)"},
}

// exitCodeRule settles the case where both 3 and 4 apply.
const exitCodeRule = "When both 3 and 4 apply, the exit code is 4: documents that were read but rejected are missing from the cluster until the dead-letter file is dealt with, and the summary lists the input errors anyway."

// exitCodesHelp is the exit code section of `procbeat replay --help`.
func exitCodesHelp() string {
	var b strings.Builder
	b.WriteString("Exit codes:\n")
	for _, c := range exitCodes {
		fmt.Fprintf(&b, "  %d  %s\n", c.code, c.meaning)
	}
	b.WriteString(exitCodeRule)
	return b.String()
}

// exitCodesMarkdown is the README's table.
func exitCodesMarkdown() string {
	var b strings.Builder
	b.WriteString("| code | meaning |\n|---|---|\n")
	for _, c := range exitCodes {
		fmt.Fprintf(&b, "| %d | %s |\n", c.code, c.meaning)
	}
	return b.String()
}

// replayExitCode is the exit code of a replay that was not aborted, from
// whether input errors occurred and how many documents were dead-lettered.
func replayExitCode(inputErrors bool, deadLettered uint64) int {
	switch {
	case deadLettered > 0:
		return ExitDeadLettered
	case inputErrors:
		return ExitInputErrors
	}
	return ExitOK
}
