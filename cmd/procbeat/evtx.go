package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/evtx"
	"github.com/procbeat/procbeat/logging"
)

// maxDumpErrorsShown bounds the errors evtx dump repeats on stderr (the
// dump has all of them), as replay bounds its warnings per file.
const maxDumpErrorsShown = 100

func newEVTXCmd() *cobra.Command {
	cmd := group(&cobra.Command{Use: "evtx", Short: "EVTX file tools"})
	var format string
	dump := &cobra.Command{
		Use:   "dump FILE",
		Short: "Print every record of an EVTX file as XML or JSON, one per line (debugging)",
		Long: "Print every record of an EVTX file as XML or JSON, one per line (debugging).\n\n" +
			"Errors in the file (a damaged chunk or record, a file shorter than its header declares) are written " +
			"in place, as XML comments or {\"error\": ...} lines, and to stderr; the exit status is then 3.\n\n" +
			"Exit codes as for procbeat replay: 0 the file was read to its end without error, 1 a fatal error " +
			"(a path that does not exist, an interruption, a failed write), 3 the file is not EVTX or holds errors.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := evtx.Dump(cmd.Context(), cmd.OutOrStdout(), args[0], format)
			if code := dumpExitCode(cmd.ErrOrStderr(), err); code != ExitOK {
				return exitError{code}
			}
			return err
		},
	}
	dump.Flags().StringVar(&format, "format", "xml", "xml or json")
	cmd.AddCommand(dump)
	return cmd
}

// dumpExitCode says on w what made the input unreadable and returns
// ExitInputErrors for it, as replay counts it: a file that is not EVTX, or
// one holding errors (evtx.DumpErrors). It returns ExitOK for anything
// else, which the caller returns as a fatal error.
func dumpExitCode(w io.Writer, err error) int {
	var de *evtx.DumpErrors
	var fe *evtx.FileError
	switch {
	case errors.As(err, &de):
		shown := de.Errors[:min(len(de.Errors), maxDumpErrorsShown)]
		if de.End != nil {
			shown = append(shown[:len(shown):len(shown)], de.End)
		}
		for _, e := range shown {
			// Errors name the input file and carry its bytes: escaped.
			fmt.Fprintf(w, "error: %s\n", logging.Clean(e.Error()))
		}
		if n := de.Count - len(shown); n > 0 {
			fmt.Fprintf(w, "error: and %d more (in the dump)\n", n)
		}
		fmt.Fprintf(w, "%s\n", logging.Clean(de.Error()))
	case errors.As(err, &fe):
		fmt.Fprintf(w, "error: %s\n", logging.Clean(fe.Error()))
	default:
		return ExitOK
	}
	fmt.Fprintf(w, "exit status %d (procbeat replay --help explains it)\n", ExitInputErrors)
	return ExitInputErrors
}
