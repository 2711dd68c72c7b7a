package main

import (
	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/beater"
)

func newRunCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Read the configured inputs until stopped (SIGINT or SIGTERM drain for up to shutdown_timeout; a second one stops at once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, closeLog, err := g.loadWithLogger(cmd, false)
			if err != nil {
				return err
			}
			defer closeLog()
			sig := notifyStop(cmd.Context())
			defer sig.stop()
			// Under the service control manager, a stop or shutdown
			// request is the first signal.
			stopOnServiceRequest(cmd.Context(), sig.cancel, sig.ctx.Done())
			ctx := sig.ctx
			// shutdown_timeout bounds the drain; 0 (no wait) is closeOnSignals'.
			b, err := beater.New(cmd.Context(), cfg, log, beater.Options{Stdout: cmd.OutOrStdout(), Resume: true, DrainTimeout: cfg.ShutdownTimeout})
			if err != nil {
				return err
			}
			log.Infof("procbeat running: %d inputs, namespace %s", len(cfg.Procbeat.Inputs), cfg.Procbeat.Namespace)
			runErr := b.Run(ctx)
			log.Infof("stopping: draining events in flight for up to %s (shutdown_timeout; a second signal stops at once)", cfg.ShutdownTimeout)
			closeErr := closeOnSignals(b, sig, cfg.ShutdownTimeout, log)
			if runErr != nil {
				return runErr
			}
			return closeErr
		},
	}
}
