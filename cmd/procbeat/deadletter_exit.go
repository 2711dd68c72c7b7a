package main

import "github.com/procbeat/procbeat/beater"

// exitDeadLettered is replay's exit status when Elasticsearch rejected
// documents for good: they are safe in the dead-letter file, but not where
// they were sent, and a script must be able to tell (0 ok, 1 fatal, 3 input
// errors, 4 dead-lettered).
const exitDeadLettered = 4

// deadLetteredExit returns the exit status for a replay that set documents
// aside; the summary has already said how many and where.
func deadLetteredExit(s beater.Summary) error {
	if s.DeadLettered > 0 {
		return exitError{code: exitDeadLettered}
	}
	return nil
}
