package main

import (
	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/evtx"
)

func newEVTXCmd() *cobra.Command {
	cmd := group(&cobra.Command{Use: "evtx", Short: "EVTX file tools"})
	var format string
	dump := &cobra.Command{
		Use:   "dump FILE",
		Short: "Print every record of an EVTX file as XML or JSON, one per line (debugging)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return evtx.Dump(cmd.Context(), cmd.OutOrStdout(), args[0], format)
		},
	}
	dump.Flags().StringVar(&format, "format", "xml", "xml or json")
	cmd.AddCommand(dump)
	return cmd
}
