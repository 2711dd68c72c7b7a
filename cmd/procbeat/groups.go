package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// group makes cmd a command group that fails on a missing or unknown
// subcommand: without a RunE of its own, cobra prints the group's help and
// exits 0 for `procbeat test confg`, so a script's typo passed silently.
// Its error names the unknown word and the group's commands, as
// `procbeat bogus` does at the top level.
func group(cmd *cobra.Command) *cobra.Command {
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		valid := strings.Join(names, ", ")
		if len(args) == 0 {
			return fmt.Errorf("%s needs a command, one of: %s", cmd.CommandPath(), valid)
		}
		hint := ""
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2 // cobra's default at the top level
		}
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			hint = fmt.Sprintf(" (did you mean %q?)", s[0])
		}
		return fmt.Errorf("unknown command %q for %q%s; its commands: %s", args[0], cmd.CommandPath(), hint, valid)
	}
	return cmd
}
