package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
)

func newRunCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Read the configured inputs until stopped (SIGINT or SIGTERM drain and flush first)",
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
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
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
