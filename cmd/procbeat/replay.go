package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/beater"
)

func newReplayCmd(g *globals) *cobra.Command {
	var codec string
	var resume bool
	cmd := &cobra.Command{
		Use:   "replay FILE...",
		Short: "Map EVTX, XML or JSON files to documents and ship them (NDJSON on stdout when no output is configured)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, log, closeLog, err := g.loadWithLogger(cmd, true)
			if err != nil {
				return err
			}
			defer closeLog()
			// Checkpoints matter when documents go somewhere that keeps
			// them; a replay to stdout starts from the beginning unless
			// asked otherwise.
			if !cmd.Flags().Changed("resume") {
				resume = (cfg.Output.Elasticsearch != nil && cfg.Output.Elasticsearch.Enabled) ||
					(cfg.Output.File != nil && cfg.Output.File.Enabled)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// The pipeline lives on cmd.Context(): a signal stops reading, and Close
			// then drains what is in flight instead of abandoning it.
			b, err := beater.New(cmd.Context(), cfg, log, beater.Options{Stdout: cmd.OutOrStdout(), Resume: resume, Codec: codec, DrainTimeout: beater.ReplayDrainTimeout(cfg),
				Progress: &beater.Progress{W: cmd.ErrOrStderr(), TTY: beater.IsTerminal(os.Stderr), Log: log}})
			if err != nil {
				return err
			}
			sum, rerr := b.Replay(ctx, args)
			cerr := b.Close()
			b.AddDelivery(&sum)
			sum.Write(cmd.ErrOrStderr())
			if rerr != nil {
				return rerr
			}
			if cerr != nil {
				return fmt.Errorf("delivery: %w", cerr)
			}
			if err := deadLetteredExit(sum); err != nil {
				return err
			}
			return ctx.Err()
		},
	}
	cmd.Flags().StringVar(&codec, "codec", "", "json (Defend documents) or car (MITRE CAR objects); default: the output's codec")
	cmd.Flags().BoolVar(&resume, "resume", false, "keep checkpoints in path.data and skip what was delivered before (default: on for elasticsearch and file outputs)")
	return cmd
}
