package main

import (
	"fmt"
	"runtime"

	"github.com/procbeat/procbeat/config"
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
			cfg, err := g.load(cmd)
			if err == nil {
				// And what run refuses beyond the values.
				err = runChecks(cfg, runtime.GOOS)
			}
			if err != nil {
				printErrors(cmd, err)
				return exitError{1}
			}
			if note, ignored := config.DisabledElasticsearch(g.layers, cfg); len(ignored) > 0 {
				// Valid, but what the user set does nothing: said, as
				// run and replay say it.
				fmt.Fprintln(cmd.ErrOrStderr(), "Warning:", note)
			}
			if err := inputsCheck(cfg); err != nil {
				// Fine for replay; run refuses it, which is said.
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "Config OK for replay and export coverage; procbeat run would refuse it: %v\n", err)
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "Config OK")
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
