package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
)

// The Windows service. `procbeat service install|uninstall|start|stop|status`
// manages it through the service control manager (service_windows.go); on
// other systems the command exists and says it is for Windows only, so that
// scripts and docs are the same everywhere.
//
// When the service control manager starts procbeat, main hands the process
// to runService: the installed command line (run with the ProgramData
// configuration) is executed, and a stop or shutdown request cancels the
// same context SIGINT and SIGTERM cancel (stopOnServiceRequest), so the run
// drains and flushes exactly as it does on a terminal.

// ServiceName is the service's name in the service control manager.
const ServiceName = "procbeat"

// serviceStopWait bounds how long `service stop` waits for the service to
// drain and stop; the pipeline's own drain takes at most 30 s.
const serviceStopWait = 90 * time.Second

// serviceControl is what the service subcommands need of the system.
type serviceControl interface {
	Install(exe string, args []string) error
	Uninstall() error
	Start() error
	Stop(wait time.Duration) error
	Status() (string, error)
}

// errNotWindows is what the service subcommands say off Windows.
var errNotWindows = errors.New("procbeat service manages a Windows service and works only on Windows; elsewhere run `procbeat run` under the system's service manager (systemd, launchd)")

// serviceHome is procbeat's home as a service: %ProgramData%\procbeat
// (configuration procbeat.yml, data\ with the registry, logs\).
func serviceHome(getenv func(string) string) string {
	pd := getenv("ProgramData")
	if pd == "" {
		pd = `C:\ProgramData`
	}
	return filepath.Join(pd, ServiceName)
}

// serviceArgs is the command line the service runs: `run` with the
// configuration and home under dir.
func serviceArgs(home, configFile string) []string {
	if configFile == "" {
		configFile = filepath.Join(home, "procbeat.yml")
	}
	return []string{"run", "-c", configFile, "-E", "path.home=" + home}
}

func newServiceCmd() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "service",
		Short: "Manage procbeat's Windows service (Windows only)",
		Long: `Manage procbeat's Windows service. install registers it to start automatically
and to restart after a failure, with its home (procbeat.yml, data, logs) in
%ProgramData%\procbeat unless --home says otherwise. Stopping the service
drains and flushes events in flight, as SIGTERM does for procbeat run.`,
	})
	var home, configFile string
	install := &cobra.Command{
		Use:   "install",
		Short: "Register the service (automatic start, restart on failure)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := newServiceControl()
			if err != nil {
				return err
			}
			if home == "" {
				home = serviceHome(os.Getenv)
			}
			if err := os.MkdirAll(home, 0o750); err != nil {
				return fmt.Errorf("service home: %w", err)
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			args := serviceArgs(home, configFile)
			if err := sc.Install(exe, args); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "installed service %s: %s %q\nput the configuration in %s, then: procbeat service start\n", ServiceName, exe, args, args[2])
			return nil
		},
	}
	install.Flags().StringVar(&home, "home", "", `service home (default %ProgramData%\procbeat)`)
	install.Flags().StringVar(&configFile, "config", "", `configuration file (default <home>\procbeat.yml)`)
	simple := func(use, short string, f func(serviceControl) (string, error)) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := newServiceControl()
			if err != nil {
				return err
			}
			msg, err := f(sc)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		}}
	}
	cmd.AddCommand(install,
		simple("uninstall", "Remove the service", func(sc serviceControl) (string, error) {
			return "service " + ServiceName + " removed", sc.Uninstall()
		}),
		simple("start", "Start the service", func(sc serviceControl) (string, error) {
			return "service " + ServiceName + " starting", sc.Start()
		}),
		simple("stop", "Stop the service (it drains and flushes first)", func(sc serviceControl) (string, error) {
			return "service " + ServiceName + " stopped", sc.Stop(serviceStopWait)
		}),
		simple("status", "Show the service's state", func(sc serviceControl) (string, error) {
			return sc.Status()
		}),
	)
	return cmd
}

// serviceStopKey carries, in the context a service run executes with, the
// channel closed on a stop or shutdown request.
type serviceStopKey struct{}

// stopOnServiceRequest calls cancel, which stops the run command as its
// first SIGINT or SIGTERM does (drain, flush), when the service control
// manager asks the service started with parent to stop; it returns at once
// outside a service, and its watch ends with done.
func stopOnServiceRequest(parent context.Context, cancel func(), done <-chan struct{}) {
	req, ok := parent.Value(serviceStopKey{}).(<-chan struct{})
	if !ok {
		return
	}
	go func() {
		select {
		case <-req:
			cancel()
		case <-done:
		}
	}()
}

// serviceState is what the service reports to the service control manager.
type serviceState int

const (
	serviceRunning serviceState = iota + 1
	serviceStopping
)

// serve runs procbeat as a service until run returns. A stop request
// (closed stopReq) reports stopping and calls stop, which makes run drain
// and return; serve then returns run's error. A run that ends by itself (a
// configuration error) ends the service with its error, which the service
// control manager's recovery acts on.
func serve(run func() error, stopReq <-chan struct{}, stop func(), report func(serviceState)) error {
	done := make(chan error, 1)
	go func() { done <- run() }()
	report(serviceRunning)
	select {
	case <-stopReq:
		report(serviceStopping)
		stop()
		return <-done
	case err := <-done:
		return err
	}
}
