package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/kql"
)

// catalogFields is procbeat's catalog in the role of a Kibana data view.
func catalogFields() (kql.MapFields, error) {
	cat, err := fields.Load()
	if err != nil {
		return nil, err
	}
	return kql.MapFields(cat.Types()), nil
}

func newKQLCmd() *cobra.Command {
	cmd := group(&cobra.Command{Use: "kql", Short: "Translate or lint a KQL query against procbeat's fields"})
	cmd.AddCommand(&cobra.Command{
		Use:   "translate QUERY",
		Short: "Print the Query DSL Kibana would send for QUERY",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := catalogFields()
			if err != nil {
				return err
			}
			q, err := kql.TranslateQuery(strings.Join(args, " "), f)
			if err != nil {
				return err
			}
			raw, err := json.Marshal(map[string]json.RawMessage{"query": json.RawMessage(q.String())})
			if err != nil {
				return err
			}
			return writeJSON(cmd, json.RawMessage(raw))
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "lint QUERY",
		Short: "Warn about precedence traps, bare values, unknown fields and impossible values (exit 1 on any)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := catalogFields()
			if err != nil {
				return err
			}
			warnings, err := kql.Lint(strings.Join(args, " "), f)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{1}
			}
			for _, w := range warnings {
				fmt.Fprintln(cmd.OutOrStdout(), w.String())
			}
			if len(warnings) > 0 {
				return exitError{1}
			}
			return nil
		},
	})
	return cmd
}
