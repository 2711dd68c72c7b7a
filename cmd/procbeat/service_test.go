package main

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestServeStopDrains: a stop request reports stopping, makes the run
// drain (its context ends), and the service ends with the run's result.
func TestServeStopDrains(t *testing.T) {
	req := make(chan struct{})
	ctx := context.WithValue(context.Background(), serviceStopKey{}, (<-chan struct{})(req))
	var states []serviceState
	drained := false
	stopReq := make(chan struct{})
	run := func() error {
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		stopOnServiceRequest(ctx, cancel, runCtx.Done())
		<-runCtx.Done()
		time.Sleep(10 * time.Millisecond) // the drain
		drained = true
		return nil
	}
	done := make(chan error)
	go func() {
		done <- serve(run, stopReq, func() { close(req) }, func(s serviceState) { states = append(states, s) })
	}()
	time.Sleep(10 * time.Millisecond)
	close(stopReq)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the service did not stop")
	}
	if !drained || !slices.Equal(states, []serviceState{serviceRunning, serviceStopping}) {
		t.Fatalf("drained %v, states %v", drained, states)
	}
}

// TestServeRunEndsByItself: a run that fails (configuration error) ends
// the service with that error, so that recovery can act on it.
func TestServeRunEndsByItself(t *testing.T) {
	boom := errors.New("procbeat.inputs.0.channels: a wineventlog input needs at least one channel")
	err := serve(func() error { return boom }, make(chan struct{}), func() { t.Fatal("stop called") }, func(serviceState) {})
	if !errors.Is(err, boom) {
		t.Fatalf("%v", err)
	}
}

// TestNoServiceNoWatch: outside a service nothing but its own cancel
// ends the run's context.
func TestNoServiceNoWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	called := make(chan struct{}, 1)
	stopOnServiceRequest(context.Background(), func() { called <- struct{}{} }, ctx.Done())
	select {
	case <-called:
		t.Fatal("cancelled outside a service")
	case <-time.After(10 * time.Millisecond):
	}
}

func TestServiceCommandLine(t *testing.T) {
	home := serviceHome(func(k string) string {
		if k == "ProgramData" {
			return `D:\PD`
		}
		return ""
	})
	if home != filepath.Join(`D:\PD`, "procbeat") {
		t.Fatalf("home %q", home)
	}
	args := serviceArgs(home, "")
	want := []string{"run", "-c", filepath.Join(home, "procbeat.yml"), "-E", "path.home=" + home}
	if !slices.Equal(args, want) {
		t.Fatalf("args %q, want %q", args, want)
	}
	if got := serviceArgs(home, `E:\cfg\pb.yml`); got[2] != `E:\cfg\pb.yml` {
		t.Fatalf("config override: %q", got)
	}
}

func TestServiceCommandOffWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the service commands work on Windows")
	}
	for _, sub := range []string{"install", "uninstall", "start", "stop", "status"} {
		root := newRoot()
		root.SetArgs([]string{"service", sub})
		if err := root.Execute(); !errors.Is(err, errNotWindows) {
			t.Fatalf("service %s: %v", sub, err)
		}
	}
}
