package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/monitoring"
)

// stopSignals is how a job is stopped: the first SIGINT or SIGTERM ends ctx
// (stop reading, drain what is in flight); the second closes force (give up
// the drain at once). Without it a second Ctrl-C during a long drain did
// nothing.
type stopSignals struct {
	ctx   context.Context
	force chan struct{}
	// first is closed by the first signal (not by stop).
	first  chan struct{}
	cancel context.CancelFunc
	ch     chan os.Signal
	done   chan struct{}
}

func notifyStop(parent context.Context) *stopSignals {
	ctx, cancel := context.WithCancel(parent)
	s := &stopSignals{ctx: ctx, force: make(chan struct{}), first: make(chan struct{}), cancel: cancel, ch: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(s.ch, os.Interrupt, syscall.SIGTERM)
	go s.loop()
	return s
}

func (s *stopSignals) loop() {
	n := 0
	for {
		select {
		case <-s.done:
			return
		case <-s.ch:
			n++
			if n == 1 {
				close(s.first)
				s.cancel()
			} else {
				close(s.force)
				return
			}
		}
	}
}

// stop releases the signals: the default action applies again.
func (s *stopSignals) stop() {
	signal.Stop(s.ch)
	close(s.done)
	s.cancel()
}

// closeOnSignals closes b once the job is over. After a stop signal it
// waits up to wait (shutdown_timeout; 0: not at all) for events in flight,
// and a second signal gives up at once.
func closeOnSignals(b *beater.Beater, s *stopSignals, wait time.Duration, log monitoring.Logger) error {
	done := make(chan struct{})
	go func() {
		select {
		case <-s.ctx.Done():
		case <-done:
			return
		}
		if wait <= 0 {
			b.Abort()
			return
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
			log.Warnf("shutdown_timeout (%s) reached: stopping without waiting for the rest of the events in flight", wait)
			b.Abort()
		case <-s.force:
			log.Warnf("second signal: stopping now; events not acknowledged are read again by the next run")
			b.Abort()
		case <-done:
		}
	}()
	err := b.Close()
	close(done)
	return err
}

// announceDrain logs, on the first signal, what stopping will do: the same
// words as run's, so that a replay no longer waits up to shutdown_timeout
// in silence after Ctrl-C.
func (s *stopSignals) announceDrain(wait time.Duration, log monitoring.Logger) {
	go func() {
		select {
		case <-s.first:
			logDraining(wait, log)
		case <-s.done:
		}
	}()
}

// logDraining says how long a stopping job waits for events in flight.
func logDraining(wait time.Duration, log monitoring.Logger) {
	if wait <= 0 {
		log.Infof("stopping: shutdown_timeout is 0, events in flight are not waited for (they are read again by the next run)")
		return
	}
	log.Infof("stopping: draining events in flight for up to %s (shutdown_timeout; a second signal stops at once)", wait)
}
