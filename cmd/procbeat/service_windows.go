//go:build windows

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

// runService runs procbeat as the service when the service control manager
// started it: the installed command line executes with a context whose
// stop channel a stop or shutdown request closes (stopContext).
func runService(newRoot func() *cobra.Command) (bool, error) {
	isService, err := svc.IsWindowsService()
	if err != nil || !isService {
		return false, nil
	}
	req := make(chan struct{})
	ctx := context.WithValue(context.Background(), serviceStopKey{}, (<-chan struct{})(req))
	root := newRoot()
	root.SetArgs(os.Args[1:])
	h := &serviceHandler{run: func() error { return root.ExecuteContext(ctx) }, stop: req}
	if err := svc.Run(ServiceName, h); err != nil {
		return true, err
	}
	return true, h.err
}

// serviceHandler translates the service control manager's requests for
// serve, which decides.
type serviceHandler struct {
	run  func() error
	stop chan struct{}
	err  error
}

func (h *serviceHandler) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	const accepts = svc.AcceptStop | svc.AcceptShutdown
	status <- svc.Status{State: svc.StartPending}
	stopReq := make(chan struct{})
	done := make(chan struct{})
	go func() {
		requested := false
		for {
			select {
			case <-done:
				return
			case c := <-requests:
				switch c.Cmd {
				case svc.Interrogate:
					status <- c.CurrentStatus
				case svc.Stop, svc.Shutdown:
					if !requested {
						requested = true
						close(stopReq)
					}
				}
			}
		}
	}()
	h.err = serve(h.run, stopReq, func() { close(h.stop) }, func(s serviceState) {
		switch s {
		case serviceRunning:
			status <- svc.Status{State: svc.Running, Accepts: accepts}
		case serviceStopping:
			// Draining waits for the output: give it the pipeline's
			// drain time and then some.
			status <- svc.Status{State: svc.StopPending, WaitHint: uint32(serviceStopWait / time.Millisecond)}
		}
	})
	close(done)
	if h.err != nil {
		// A service-specific exit code marks a failure, so that the
		// recovery actions restart the service.
		return true, 1
	}
	return false, 0
}

type winServiceControl struct{}

func newServiceControl() (serviceControl, error) { return winServiceControl{}, nil }

func withService(f func(*mgr.Service) error) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service control manager (run as Administrator): %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(ServiceName)
	if err != nil {
		return fmt.Errorf("service %s: %w", ServiceName, err)
	}
	defer s.Close()
	return f(s)
}

func (winServiceControl) Install(exe string, args []string) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service control manager (run as Administrator): %w", err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(ServiceName); err == nil {
		s.Close()
		return fmt.Errorf("service %s is already installed (procbeat service uninstall first)", ServiceName)
	}
	s, err := m.CreateService(ServiceName, exe, mgr.Config{
		DisplayName:      "procbeat",
		Description:      "Ships Windows process events (Sysmon, Security) as Elastic Defend process documents.",
		StartType:        mgr.StartAutomatic,
		DelayedAutoStart: true, // after the event log and the network
		Dependencies:     []string{"EventLog"},
	}, args...)
	if err != nil {
		return fmt.Errorf("creating service %s: %w", ServiceName, err)
	}
	defer s.Close()
	// Restart after 5 s, 30 s, then every minute; forget failures after a
	// day. Exiting with an error counts as a failure, not only a crash.
	actions := []mgr.RecoveryAction{
		{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
		{Type: mgr.ServiceRestart, Delay: 30 * time.Second},
		{Type: mgr.ServiceRestart, Delay: time.Minute},
	}
	if err := s.SetRecoveryActions(actions, 24*60*60); err != nil {
		return fmt.Errorf("service %s: recovery actions: %w", ServiceName, err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		return fmt.Errorf("service %s: recovery on failure: %w", ServiceName, err)
	}
	return nil
}

func (winServiceControl) Uninstall() error {
	return withService(func(s *mgr.Service) error { return s.Delete() })
}

func (winServiceControl) Start() error {
	return withService(func(s *mgr.Service) error { return s.Start() })
}

func (winServiceControl) Stop(wait time.Duration) error {
	return withService(func(s *mgr.Service) error {
		st, err := s.Control(svc.Stop)
		if err != nil {
			if errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
				return nil
			}
			return err
		}
		deadline := time.Now().Add(wait)
		for st.State != svc.Stopped {
			if time.Now().After(deadline) {
				return fmt.Errorf("service %s still %s after %s", ServiceName, stateName(st.State), wait)
			}
			time.Sleep(300 * time.Millisecond)
			if st, err = s.Query(); err != nil {
				return err
			}
		}
		return nil
	})
}

func (winServiceControl) Status() (string, error) {
	var out string
	err := withService(func(s *mgr.Service) error {
		st, err := s.Query()
		if err != nil {
			return err
		}
		cfg, err := s.Config()
		if err != nil {
			return err
		}
		out = fmt.Sprintf("service %s: %s (pid %d)\ncommand: %s", ServiceName, stateName(st.State), st.ProcessId, cfg.BinaryPathName)
		return nil
	})
	return out, err
}

func stateName(s svc.State) string {
	switch s {
	case svc.Stopped:
		return "stopped"
	case svc.StartPending:
		return "starting"
	case svc.StopPending:
		return "stopping"
	case svc.Running:
		return "running"
	case svc.ContinuePending:
		return "resuming"
	case svc.PausePending:
		return "pausing"
	case svc.Paused:
		return "paused"
	}
	return fmt.Sprintf("state %d", s)
}
