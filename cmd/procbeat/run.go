package main

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
)

func newRunCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Read the configured inputs until stopped (SIGINT or SIGTERM drain for up to shutdown_timeout; a second one stops at once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if managed, err := g.managementEnabled(cmd); err != nil {
				return err
			} else if managed {
				return runManaged(cmd, g)
			}
			cfg, log, closeLog, err := g.loadWithLogger(cmd, false)
			if err != nil {
				return err
			}
			defer closeLog()
			if err := runChecks(cfg, runtime.GOOS); err != nil {
				return err
			}
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
			if errors.Is(runErr, beater.ErrNoInput) {
				// Named by its key, as test config names it.
				if err := inputsCheck(cfg); err != nil {
					runErr = err
				}
			}
			logDraining(cfg.ShutdownTimeout, log)
			closeErr := closeOnSignals(b, sig, cfg.ShutdownTimeout, log)
			if runErr != nil {
				return runErr
			}
			return closeErr
		},
	}
}

// managementEnabled reads management.enabled alone: under Elastic Agent the
// rest of the configuration comes from the Agent.
func (g *globals) managementEnabled(cmd *cobra.Command) (bool, error) {
	raw, err := g.raw(cmd)
	if err != nil {
		return false, err
	}
	var sel struct {
		Management config.Management `config:"management"`
	}
	if err := raw.Unpack(&sel); err != nil {
		return false, fmt.Errorf("config: %w", err)
	}
	return sel.Management.Enabled, nil
}
