//go:build agent

package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/elastic/elastic-agent-client/v7/pkg/client"
	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/logging"
	"github.com/procbeat/procbeat/management/agent"
	"github.com/procbeat/procbeat/version"
)

// agentBuild says this binary can run under Elastic Agent; it links the
// Elastic-licensed client (see package agent).
const agentBuild = true

// runManaged runs procbeat as an Elastic Agent component: the connection
// information is on standard input, the configuration comes from the
// Agent's units; SIGINT and SIGTERM drain and stop.
func runManaged(cmd *cobra.Command, g *globals) error {
	raw, err := g.raw(cmd)
	if err != nil {
		return err
	}
	ks, err := g.openKeystore(raw)
	if err != nil {
		return err
	}
	cfg, err := config.DecodeWith(raw, ks)
	if err != nil {
		return err
	}
	log, level, closeLog, err := logging.NewLeveled(cfg.Logging, cfg.Path, logging.Options{ToStderr: g.toStderr, Debug: g.debugSelectors, Stderr: cmd.ErrOrStderr()})
	if err != nil {
		return err
	}
	defer closeLog()
	cl, _, err := client.NewV2FromReader(cmd.InOrStdin(), client.VersionInfo{
		Name:      "procbeat",
		BuildHash: version.Commit,
		Meta:      map[string]string{"version": version.Version, "build_time": version.BuildDate},
	})
	if err != nil {
		return fmt.Errorf("management.enabled: reading the Elastic Agent connection information from standard input: %w", err)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Infof("procbeat running under Elastic Agent")
	return agent.Run(ctx, cl, agent.Options{Base: raw, Secrets: ks, Log: log, Level: level,
		// A unit is reported stopped only once drained: shutdown_timeout
		// bounds the wait when set, else the pipeline's 30 s.
		Beater: beater.Options{Stdout: cmd.OutOrStdout(), DrainTimeout: cfg.ShutdownTimeout}})
}
