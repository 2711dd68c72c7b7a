package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/version"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "procbeat version %s (%s/%s), ECS %s, %s\n",
				version.Version, runtime.GOOS, runtime.GOARCH, version.ECS, runtime.Version())
			return err
		},
	}
}
