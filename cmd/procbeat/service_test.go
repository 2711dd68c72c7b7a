package main

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/config"
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
	pd := t.TempDir() // %ProgramData%, absolute on every system
	getenv := func(k string) string {
		if k == "ProgramData" {
			return pd
		}
		return ""
	}
	home := serviceHome(getenv)
	if home != filepath.Join(pd, "procbeat") {
		t.Fatalf("home %q", home)
	}
	_, _, args, err := serviceArgs(serviceSettings{}, getenv)
	want := []string{"run", "-c", filepath.Join(home, "procbeat.yml"), "-E", "path.home=" + home}
	if err != nil || !slices.Equal(args, want) {
		t.Fatalf("args %q (%v), want %q", args, err, want)
	}
	cfg := filepath.Join(t.TempDir(), "pb.yml")
	if _, _, got, _ := serviceArgs(serviceSettings{config: cfg}, getenv); got[2] != cfg {
		t.Fatalf("config override: %q", got)
	}
}

// TestServiceCarriesGlobalFlags: the global flags given to service install
// are on the service's command line, none accepted and dropped; those
// given two ways, and -e, are refused.
func TestServiceCarriesGlobalFlags(t *testing.T) {
	root := t.TempDir()
	getenv := func(string) string { return root }
	at := func(p ...string) string { return filepath.Join(append([]string{root}, p...)...) }
	home, files, args, err := serviceArgs(serviceSettings{
		configFiles: []string{"base.yml", at("etc", "site.yml")},
		overrides:   []string{"procbeat.namespace=site_a", "output.elasticsearch.hosts=[\"https://es:9200\"]"},
		paths:       config.Path{Home: at("pb"), Data: at("var"), Logs: "log"},
		debug:       []string{"publisher"}, noStrictPerms: true,
	}, getenv)
	want := []string{"run", "-c", at("pb", "base.yml"), "-c", at("etc", "site.yml"), "-E", "path.home=" + at("pb"),
		"--path.data", at("var"), "--path.logs", "log",
		"-E", "procbeat.namespace=site_a", "-E", `output.elasticsearch.hosts=["https://es:9200"]`, "-d", "publisher", "--strict.perms=false"}
	if err != nil || home != at("pb") || !slices.Equal(files, []string{at("pb", "base.yml"), at("etc", "site.yml")}) || !slices.Equal(args, want) {
		t.Fatalf("home %q files %q args %q (%v)\nwant %q", home, files, args, err, want)
	}
	// --path.config moves the default file.
	if _, files, _, _ := serviceArgs(serviceSettings{home: root, paths: config.Path{Config: "etc"}}, getenv); !slices.Equal(files, []string{at("etc", "procbeat.yml")}) {
		t.Fatalf("path.config: %q", files)
	}
	// A relative home is the installer's working directory's.
	if home, _, _, _ := serviceArgs(serviceSettings{home: "h"}, getenv); !filepath.IsAbs(home) {
		t.Fatalf("relative home kept: %q", home)
	}
	for name, s := range map[string]serviceSettings{
		"-e":                     {toStderr: true},
		"--home and --path.home": {home: "/a", paths: config.Path{Home: "/b"}},
		"--config and -c":        {config: "/a.yml", configFiles: []string{"/b.yml"}},
		"-E path.data":           {overrides: []string{"path.data=/x"}},
	} {
		if _, _, args, err := serviceArgs(s, getenv); err == nil {
			t.Errorf("%s: accepted: %q", name, args)
		}
	}
}

// TestServiceInstallRefusesBeforeInstalling: the -E values given reach
// service install, which refuses those it cannot carry, on any system.
func TestServiceInstallRefusesBeforeInstalling(t *testing.T) {
	_, stderr, code := run(t, "service", "install", "-E", "path.data=/x")
	if code == 0 || !strings.Contains(stderr, "-E path.data=/x") {
		t.Fatalf("exit %d, %q", code, stderr)
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
