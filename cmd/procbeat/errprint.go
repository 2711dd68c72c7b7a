package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/procbeat/procbeat/logging"
)

// printError writes a command's error for a person: each of its lines (a
// joined error holds one per problem) on a line of its own, cleaned
// (escaped, passwords hidden: errors name input files and hosts). Cleaning
// the whole message wrote its new lines as a literal \n, running five
// errors into one line.
func printError(w io.Writer, err error) {
	prefix := "Error: "
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		fmt.Fprintln(w, prefix+logging.Clean(line))
		prefix = "  "
	}
}
