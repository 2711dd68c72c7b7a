package beater

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/source"
)

// fileState is what a scan remembers of a file, to read it again only when
// it changed (grew, or was copied again).
type fileState struct {
	size    int64
	modTime time.Time
}

// Run reads the configured inputs until ctx ends: every file once, then,
// every procbeat.scan_frequency, the files that are new or changed, each
// from its checkpoint. It returns nil when ctx ends; the caller then closes
// the Beater, which drains what is in flight.
func (b *Beater) Run(ctx context.Context) error {
	var inputs, live []config.Input
	for _, in := range b.cfg.Procbeat.Inputs {
		switch {
		case !in.Enabled:
		case in.Type == LiveInput:
			live = append(live, in)
		default:
			inputs = append(inputs, in)
		}
	}
	if len(inputs) == 0 && len(live) == 0 {
		return ErrNoInput
	}
	ctx, stopLive, liveErr, err := b.startLive(ctx, live)
	if err != nil {
		return err
	}
	defer stopLive()
	seen := map[string]fileState{}
	problems := b.scanProblems()
	scopes := make([]*inputScope, len(inputs))
	for i, in := range inputs {
		if in.Namespace != "" {
			scopes[i] = &inputScope{ns: in.Namespace}
		}
	}
	tick := time.NewTicker(b.cfg.Procbeat.ScanFrequency)
	defer tick.Stop()
	for {
		for i, in := range inputs {
			// The input's type says how to read its files.
			format, err := source.ParseFormat(in.Type)
			if err != nil {
				return err
			}
			b.scan(ctx, in.Paths, format, scopes[i], seen, problems)
		}
		b.forgetRemoved(seen)
		select {
		case <-ctx.Done():
			return liveErr()
		case <-tick.C:
		}
	}
}

// forgetRemoved drops, for the files read before that are gone now, their
// state and checkpoints (as Filebeat's clean_removed does): a collector
// whose files come and go would otherwise keep them all. A file that
// comes back by that name is a new one, read from its start.
func (b *Beater) forgetRemoved(seen map[string]fileState) {
	for p := range seen {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			delete(seen, p)
			b.runner.forgetFile(p)
		}
	}
}

// scanProblems reports problems of the walk (an unreadable directory, a
// FIFO) once each, not at every scan.
func (b *Beater) scanProblems() pathProblems {
	logged := map[string]bool{}
	once := func(err error) {
		if msg := err.Error(); !logged[msg] {
			logged[msg] = true
			b.log.Warnf("inputs: %s", msg)
		}
	}
	return pathProblems{errorf: func(_ string, err error) { once(err) }, skipf: once}
}

// scan reads the new and changed files of patterns for the input of scope
// sc; it returns the errors of the files it could not read (they are tried
// again next scan).
func (b *Beater) scan(ctx context.Context, patterns []string, format source.Format, sc *inputScope, seen map[string]fileState, problems pathProblems) (failed []error) {
	// Pattern by pattern: one that matches nothing (yet: a collection
	// folder fills later) must not keep the next from being read, and is
	// said once, with the walk's other problems, not at every scan.
	var paths []string
	for _, pat := range patterns {
		ps, err := expandPaths([]string{pat}, format, b.runner.walkFS(), problems)
		if err != nil {
			problems.skipf(err)
		}
		paths = append(paths, ps...)
	}
	// The new and changed files; those of hosts that log both Sysmon and
	// Security are read together, in event-time order, as a replay does.
	var changed []string
	states := map[string]fileState{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			b.log.Warnf("%v", err)
			failed = append(failed, err)
			continue
		}
		now := fileState{size: st.Size(), modTime: st.ModTime()}
		if prev, ok := seen[p]; ok && prev == now {
			continue
		}
		changed = append(changed, p)
		states[p] = now
	}
	// ended records how reading p ended; stop says ctx ended.
	ended := func(p string, err error) (stop bool) {
		if err == nil {
			seen[p] = states[p]
			return false
		}
		if ctx.Err() != nil {
			return true
		}
		b.log.Errorf("%v", err)
		failed = append(failed, err)
		return false
	}
	together := b.runner.Declare(ctx, changed, format)
	done := make(map[string]bool, len(together))
	// Files in watched folders may still be copied there: what they lack
	// is read when they grow, not reported.
	for i, err := range b.runner.ReplayTogether(ctx, together, format, sc, true) {
		p := together[i]
		done[p] = true
		if ended(p, err) {
			return failed
		}
	}
	for _, p := range changed {
		if ctx.Err() != nil {
			return failed
		}
		if !done[p] && ended(p, b.runner.replayFile(ctx, p, format, sc, true)) {
			return failed
		}
	}
	// The end of a scan: what is still held waits no longer (a twin in a
	// file written later comes too late to be held for).
	if err := b.runner.FlushHeld(ctx); err != nil && ctx.Err() == nil {
		b.log.Errorf("%v", err)
	}
	return failed
}
