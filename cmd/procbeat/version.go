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
			_, err := fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return err
		},
	}
}

// versionLine is what `procbeat version` prints: as Beats do, the version,
// platform and build, plus the ECS version of the documents.
func versionLine() string {
	s := fmt.Sprintf("procbeat version %s (%s/%s), ECS %s, %s", version.Version, runtime.GOOS, runtime.GOARCH, version.ECS, runtime.Version())
	if version.Commit != "" {
		s += ", commit " + version.Commit
	}
	if version.BuildDate != "" {
		s += ", built " + version.BuildDate
	}
	return s
}
