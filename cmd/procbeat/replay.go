package main

import (
	"errors"
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
		Long: "Map EVTX, XML or JSON files (directories and patterns expanded) to documents and ship them; NDJSON on stdout when\n" +
			"no output is configured. A summary goes to stderr at the end, listing the files with errors.\n\n" + exitCodesHelp(),
		Args: cobra.MinimumNArgs(1),
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
			// Files that could not be read are input errors, listed in
			// the summary; any other error ends the job.
			if rerr != nil && !errors.Is(rerr, beater.ErrInputErrors) {
				return rerr
			}
			if cerr != nil {
				return fmt.Errorf("delivery: %w", cerr)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			dead := b.Counters().EventsDeadLettered.Load()
			code := replayExitCode(sum.InputErrors(), dead)
			if dead > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "documents rejected by the output and dead-lettered: %d\n", dead)
			}
			if code != ExitOK {
				fmt.Fprintf(cmd.ErrOrStderr(), "exit status %d (procbeat replay --help explains it)\n", code)
				return exitError{code}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&codec, "codec", "", "json (Defend documents) or car (MITRE CAR objects; not with output.elasticsearch); default: the output's codec")
	cmd.Flags().BoolVar(&resume, "resume", false, "keep checkpoints in path.data and skip what was delivered before (default: on for elasticsearch and file outputs)")
	return cmd
}
