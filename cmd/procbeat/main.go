// Command procbeat ships Windows process events as Elastic Defend-shaped
// documents. This package holds flags and subcommands only; the work lives in
// the packages they call.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	libconfig "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/logging"
)

// globals are the Beats-style flags every subcommand shares.
type globals struct {
	configFile string
	overrides  *libconfig.SettingsFlag
	toStderr   bool
	// paths are --path.home, --path.config, --path.data and --path.logs.
	paths config.Path
	// strictPerms refuses a configuration file others may write to.
	strictPerms bool
	// configNote says, once a logger exists, that the default
	// configuration file was absent.
	configNote string
	// debugSelectors are the -d values: debug logging for those components.
	debugSelectors []string
}

// exitError carries a process exit status without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	// The runtime samples an allocation every 512 KiB for memory profiles
	// unless told not to, as the linker finds them reachable
	// (elastic-agent-libs/api imports net/http/pprof). procbeat serves
	// none: its monitoring endpoint attaches no pprof handler. Sampling
	// cost 0.5% of a replay's CPU, and its bucket table's pages, read
	// before they are written, 40 copy-on-write faults (each one a TLB
	// shootdown on two cores). Set before the first allocation worth
	// sampling.
	runtime.MemProfileRate = 0
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
		// Errors name input files and hosts: escaped, passwords hidden.
		printError(os.Stderr, err)
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
	pf.StringVar(&g.paths.Home, "path.home", "", "home path (default: the directory of the procbeat binary)")
	pf.StringVar(&g.paths.Config, "path.config", "", "configuration path (default: path.home)")
	pf.StringVar(&g.paths.Data, "path.data", "", "data path: registry, keystore, dead letters (default: path.home/data)")
	pf.StringVar(&g.paths.Logs, "path.logs", "", "logs path (default: path.home/logs)")
	pf.BoolVar(&g.strictPerms, "strict.perms", true, "refuse a configuration file that users other than its owner may write")
	pf.StringArrayVarP(&g.debugSelectors, "d", "d", nil, `enable debug logging for these selectors ("publisher,elasticsearch"; "*" for all: `+logging.SelectorList+")")
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
		newKeystoreCmd(g),
		newServiceCmd(),
	)
	return root
}

// load reads the configuration: the -c file when it exists (a missing
// default procbeat.yml is fine, an explicit missing file is not), then -E;
// and checks it as `procbeat test config` does (beater.Check).
func (g *globals) load(cmd *cobra.Command) (config.Config, error) {
	cfg, err := g.decode(cmd)
	if err != nil {
		return config.Config{}, err
	}
	if err := beater.Check(cfg); err != nil {
		return config.Config{}, err
	}
	return cfg, nil
}

// decode is load without the checks of the values.
func (g *globals) decode(cmd *cobra.Command) (config.Config, error) {
	raw, err := g.raw(cmd)
	if err != nil {
		return config.Config{}, err
	}
	ks, err := g.openKeystore(raw)
	if err != nil {
		return config.Config{}, err
	}
	return config.DecodeUnchecked(raw, ks)
}

// raw reads the configuration file and the overrides. -c is relative to
// path.config, as in Beats; the default file may be absent (the defaults and
// -E settings apply, and the log says so), an explicit one may not.
func (g *globals) raw(cmd *cobra.Command) (*libconfig.C, error) {
	path, err := g.configPath()
	if err != nil {
		return nil, err
	}
	g.configNote = ""
	st, err := os.Stat(path)
	switch {
	case err != nil && !cmd.Flags().Changed("c") && errors.Is(err, os.ErrNotExist):
		g.configNote = "no configuration file " + path + ": using the defaults and -E settings"
		path = ""
	case err != nil:
		return nil, fmt.Errorf("config file: %w", err)
	case g.strictPerms:
		if err := config.CheckPermissions(path, st); err != nil {
			return nil, err
		}
	}
	overrides := g.overrides.Config()
	if flags := g.pathSettings(); flags != nil {
		merged, err := libconfig.MergeConfigs(overrides, flags)
		if err != nil {
			return nil, err
		}
		overrides = merged
	}
	return config.Read(path, overrides)
}

// configPath is -c resolved against path.config.
func (g *globals) configPath() (string, error) {
	if filepath.IsAbs(g.configFile) {
		return g.configFile, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("path.home: locating the procbeat binary: %w", err)
	}
	paths := g.paths.Effective(exe, runtime.GOOS, os.Getenv("ProgramData"))
	return filepath.Join(paths.Config, g.configFile), nil
}

// pathSettings turns the --path.* flags into settings that override the
// file and -E, as Beats do.
func (g *globals) pathSettings() *libconfig.C {
	m := map[string]any{}
	for key, v := range map[string]string{"path.home": g.paths.Home, "path.config": g.paths.Config, "path.data": g.paths.Data, "path.logs": g.paths.Logs} {
		if v != "" {
			m[key] = v
		}
	}
	if len(m) == 0 {
		return nil
	}
	return libconfig.MustNewConfigFrom(m)
}

// logger builds the logger the configuration asks for; -e sends it to the
// command's stderr.
func (g *globals) logger(cmd *cobra.Command, cfg config.Config) (*logp.Logger, func() error, error) {
	return logging.New(cfg.Logging, cfg.Path, logging.Options{ToStderr: g.toStderr, Debug: g.debugSelectors, Stderr: cmd.ErrOrStderr()})
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
	log, closeLog, err := g.logger(cmd, cfg)
	if err != nil {
		return config.Config{}, nil, nil, err
	}
	if g.configNote != "" {
		log.Info(g.configNote)
	}
	applyMemoryLimit(cfg)
	stopFloor := applyHeapFloor()
	return cfg, log, func() error { stopFloor(); return closeLog() }, nil
}
