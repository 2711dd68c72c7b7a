package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newTestCmd(g *globals) *cobra.Command {
	cmd := group(&cobra.Command{Use: "test", Short: "Test the configuration or the output"})
	cmd.AddCommand(&cobra.Command{
		Use:   "config",
		Short: "Check the configuration: unknown keys, wrong types, invalid values",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The checks of every command that loads the configuration,
			// run and replay included (beater.Check).
			if _, err := g.load(cmd); err != nil {
				printErrors(cmd, err)
				return exitError{1}
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "Config OK")
			return err
		},
	})
	cmd.AddCommand(newTestOutputCmd(g))
	return cmd
}

// printErrors writes the errors joined in err to stderr, one per line:
// errors.Join already puts each on its own line. (Unwrapping instead would
// also split a joined error wrapped with context, and lose the context.)
func printErrors(cmd *cobra.Command, err error) {
	fmt.Fprintln(cmd.ErrOrStderr(), err)
}
