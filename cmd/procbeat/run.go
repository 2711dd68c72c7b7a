package main

import (
	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/beater"
)

func newRunCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Read the configured inputs until stopped (SIGINT or SIGTERM drain and flush first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, closeLog, err := g.loadWithLogger(cmd, false)
			if err != nil {
				return err
			}
			defer closeLog()
			ctx, stop := stopContext(cmd.Context())
			defer stop()
			b, err := beater.New(cmd.Context(), cfg, log, beater.Options{Stdout: cmd.OutOrStdout(), Resume: true})
			if err != nil {
				return err
			}
			log.Infof("procbeat running: %d inputs, namespace %s", len(cfg.Procbeat.Inputs), cfg.Procbeat.Namespace)
			runErr := b.Run(ctx)
			log.Infof("stopping: draining events in flight")
			closeErr := b.Close()
			if runErr != nil {
				return runErr
			}
			return closeErr
		},
	}
}
