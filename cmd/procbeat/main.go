// Command procbeat ships Windows process events as Elastic Defend-shaped
// documents. This package holds flags and subcommands only; the work lives in
// the packages they call.
package main

import (
	"errors"
	"fmt"
	"os"

	libconfig "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/logging"
)

// globals are the Beats-style flags every subcommand shares.
type globals struct {
	configFile string
	overrides  *libconfig.SettingsFlag
	toStderr   bool
}

// exitError carries a process exit status without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	// Started by the Windows service control manager, procbeat runs as the
	// service (service_windows.go); otherwise as a command.
	handled, err := runService(newRoot)
	if !handled {
		err = newRoot().Execute()
	}
	var ex exitError
	switch {
	case err == nil:
	case errors.As(err, &ex):
		os.Exit(ex.code)
	default:
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	g := &globals{overrides: libconfig.NewSettingsFlag(libconfig.NewConfig())}
	root := &cobra.Command{
		Use:           "procbeat",
		Short:         "Ship Windows process events as Elastic Defend process documents",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&g.configFile, "c", "c", "procbeat.yml", "configuration file")
	// With no subcommand, procbeat runs, as Beats do.
	root.RunE = func(cmd *cobra.Command, args []string) error { return newRunCmd(g).RunE(cmd, args) }
	pf.VarP(g.overrides, "E", "E", "configuration override (key=value), repeatable")
	pf.BoolVarP(&g.toStderr, "e", "e", false, "log to stderr instead of files")
	root.AddCommand(
		newVersionCmd(),
		newExportCmd(g),
		newTestCmd(g),
		newKQLCmd(),
		newRunCmd(g),
		newReplayCmd(g),
		newSetupCmd(g),
		newQueryCmd(g),
		newEVTXCmd(),
		newServiceCmd(),
	)
	return root
}

// load reads the configuration: the -c file when it exists (a missing
// default procbeat.yml is fine, an explicit missing file is not), then -E.
func (g *globals) load(cmd *cobra.Command) (config.Config, error) {
	raw, err := g.raw(cmd)
	if err != nil {
		return config.Config{}, err
	}
	return config.Decode(raw)
}

func (g *globals) raw(cmd *cobra.Command) (*libconfig.C, error) {
	path := g.configFile
	if _, err := os.Stat(path); err != nil && !cmd.Flags().Changed("c") {
		path = ""
	}
	return config.Read(path, g.overrides.Config())
}

// logger builds the logger the configuration asks for.
func (g *globals) logger(cfg config.Config) (*logp.Logger, func() error, error) {
	return logging.New(cfg.Logging, cfg.Path, g.toStderr)
}

// loadWithLogger loads the configuration and builds its logger; foreground
// jobs (replay, coverage) log to stderr as with -e.
func (g *globals) loadWithLogger(cmd *cobra.Command, foreground bool) (config.Config, *logp.Logger, func() error, error) {
	cfg, err := g.load(cmd)
	if err != nil {
		return config.Config{}, nil, nil, err
	}
	if foreground {
		g.toStderr = true
	}
	log, closeLog, err := g.logger(cfg)
	if err != nil {
		return config.Config{}, nil, nil, err
	}
	return cfg, log, closeLog, nil
}
