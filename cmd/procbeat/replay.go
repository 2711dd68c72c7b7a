package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/beater"
)

func newReplayCmd(g *globals) *cobra.Command {
	var codec string
	var resume bool
	var maxUnreachable time.Duration
	cmd := &cobra.Command{
		Use:   "replay FILE...",
		Short: "Map EVTX, XML or JSON files to documents and ship them (NDJSON on stdout when no output is configured)",
		Long: "Map EVTX, XML or JSON files (directories and patterns expanded) to documents and ship them; NDJSON on stdout when\n" +
			"no output is configured. A summary goes to stderr at the end, listing the files with errors.\n\n" + exitCodesHelp(),
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if maxUnreachable < 0 {
				return fmt.Errorf("--max-unreachable %s: must be positive, or 0 to retry for ever", maxUnreachable)
			}
			cfg, log, closeLog, err := g.loadBatch(cmd)
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
			sig := notifyStop(cmd.Context())
			defer sig.stop()
			sig.announceDrain(cfg.ShutdownTimeout, log)
			// The pipeline lives on cmd.Context(): a signal stops reading, and Close
			// then drains what is in flight instead of abandoning it.
			progress := &beater.Progress{W: cmd.ErrOrStderr(), TTY: beater.IsTerminal(os.Stderr)}
			if progress.TTY {
				// Warnings print above the bar, not into its line.
				log = log.WithOptions(aboveProgress(progress))
			}
			progress.Log = log
			b, err := beater.New(cmd.Context(), cfg, log, beater.Options{Stdout: cmd.OutOrStdout(), Resume: resume, ReadAgainForNewDestination: true, Codec: codec, DrainTimeout: beater.ReplayDrainTimeout(cfg),
				Progress: progress})
			if err != nil {
				return err
			}
			// An output that acknowledges nothing for maxUnreachable stops
			// the reading and the drain: a batch job must end.
			ctx, stopReading := context.WithCancel(sig.ctx)
			defer stopReading()
			var unreachable error
			wctx, stopWatch := context.WithCancel(cmd.Context())
			watched := make(chan struct{})
			go func() {
				defer close(watched)
				b.WatchDelivery(wctx, maxUnreachable, func(err error) {
					unreachable = err
					log.Errorf("%v; giving up (--max-unreachable)", err)
					stopReading()
					b.Abort()
				})
			}()
			sum, rerr := b.Replay(ctx, args)
			cerr := closeOnSignals(b, sig, cfg.ShutdownTimeout, log)
			stopWatch()
			<-watched
			sum.RotatedAway = b.RotatedAway()
			b.AddDelivery(&sum)
			if unreachable != nil {
				sum.Delivery = unreachable.Error()
				sum.Write(cmd.ErrOrStderr())
				return exitWith(cmd.ErrOrStderr(), ExitFatal)
			}
			// Files that could not be read are input errors, listed in
			// the summary; any other error ends the job.
			if failure := jobFailure(rerr, cerr, ctx.Err()); failure != nil {
				return failJob(cmd.ErrOrStderr(), sum, failure)
			}
			sum.Write(cmd.ErrOrStderr())
			dead := b.Counters().EventsDeadLettered.Load()
			code := replayExitCode(sum.InputErrors(), dead)
			if dead > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "documents rejected by the output and dead-lettered: %d\n", dead)
			}
			if code != ExitOK {
				return exitWith(cmd.ErrOrStderr(), code)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&codec, "codec", "", "json (Defend documents) or car (MITRE CAR objects; not with output.elasticsearch); default: the output's codec")
	cmd.Flags().BoolVar(&resume, "resume", false, "keep checkpoints in path.data and skip what was delivered before (default: on for elasticsearch and file outputs)")
	cmd.Flags().DurationVar(&maxUnreachable, "max-unreachable", 5*time.Minute,
		"give up (exit 1) when the output acknowledges nothing for this long while its requests fail; 0 retries for ever")
	return cmd
}
