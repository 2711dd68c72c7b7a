package beater

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/source"
)

// fileState is what a scan remembers of a file, to read it again only when
// it changed (grew, was copied again, or another file took its name).
type fileState struct {
	size    int64
	modTime time.Time
	ident   string // native identity (source.Identity.String())
}

// same says s and o are the same file unchanged.
func (s fileState) same(o fileState) bool {
	return s.size == o.size && s.modTime.Equal(o.modTime) && s.ident == o.ident
}

// String is the state as the registry keeps it (Registry.SetRead).
func (s fileState) String() string {
	return strconv.FormatInt(s.size, 10) + "/" + strconv.FormatInt(s.modTime.UnixNano(), 10) + "/" + s.ident
}

// parseFileState is the inverse of String.
func parseFileState(v string) (fileState, bool) {
	f := strings.SplitN(v, "/", 3)
	if len(f) != 3 {
		return fileState{}, false
	}
	size, err1 := strconv.ParseInt(f[0], 10, 64)
	ns, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return fileState{}, false
	}
	return fileState{size: size, modTime: time.Unix(0, ns), ident: f[2]}, true
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
	w := b.newWatch(inputs)
	tick := time.NewTicker(b.cfg.Procbeat.ScanFrequency)
	defer tick.Stop()
	for {
		if err := b.round(ctx, w); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return liveErr()
		case <-tick.C:
		}
	}
}

// watch is what Run keeps from one round of scans to the next.
type watch struct {
	inputs []config.Input
	scopes []*inputScope
	// seen is what each file was when last read.
	seen map[string]fileState
	// waiting are the sources whose checkpoint waits to follow its file
	// to a new name (Runner.follow), found anew at each round.
	waiting  map[string]bool
	problems pathProblems
}

func (b *Beater) newWatch(inputs []config.Input) *watch {
	w := &watch{inputs: inputs, scopes: make([]*inputScope, len(inputs)), seen: b.lastReads(),
		waiting: map[string]bool{}, problems: b.scanProblems()}
	for i, in := range inputs {
		if in.Namespace != "" {
			w.scopes[i] = &inputScope{ns: in.Namespace}
		}
	}
	return w
}

// lastReads are the files the last run read to their end, every document
// of them acknowledged, as scan's seen: found as they were then, they are
// not read again (a read would send nothing, only report their damage
// again). Keyed by absolute path, as the registry names them.
func (b *Beater) lastReads() map[string]fileState {
	seen := map[string]fileState{}
	if b.runner.reg == nil {
		return seen
	}
	for src, v := range b.runner.reg.Reads() {
		path, ok := source.PathOf(src)
		if st, valid := parseFileState(v); ok && valid {
			seen[path] = st
		}
	}
	return seen
}

// round scans every input once, then forgets the files gone.
func (b *Beater) round(ctx context.Context, w *watch) error {
	clear(w.waiting)
	for i, in := range w.inputs {
		// The input's type says how to read its files.
		format, err := source.ParseFormat(in.Type)
		if err != nil {
			return err
		}
		b.scan(ctx, in.Paths, format, w.scopes[i], w.seen, w.waiting, w.problems)
	}
	// After every input's scan: a file renamed from one input's folder
	// to another's took its checkpoint along before its old name is
	// found gone.
	b.forgetRemoved(w.seen, w.waiting)
	return nil
}

// forgetRemoved drops, for the files read before that are gone now, their
// state and checkpoints (as Filebeat's clean_removed does): a collector
// whose files come and go would otherwise keep them all. A file that
// comes back by that name is a new one, read from its start. A file
// renamed took its checkpoint to its new name already (scan), unless it
// is waiting to: then it is kept.
func (b *Beater) forgetRemoved(seen map[string]fileState, waiting map[string]bool) {
	for p := range seen {
		if waiting[source.ID(p)] {
			continue
		}
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
// Files renamed keep their checkpoints (Runner.follow); a rename whose
// move must wait is added to waiting, and its files are not read yet.
func (b *Beater) scan(ctx context.Context, patterns []string, format source.Format, sc *inputScope, seen map[string]fileState, waiting map[string]bool, problems pathProblems) (failed []error) {
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
	// abs is each path as the registry names its file (source.AbsPath):
	// made once, for a relative one asks the system for the working
	// directory.
	abs := make(map[string]string, len(paths))
	found := make([]foundFile, 0, len(paths))
	for _, p := range paths {
		abs[p] = source.AbsPath(p)
		st, err := os.Stat(p)
		if err != nil {
			b.log.Warnf("%v", err)
			failed = append(failed, err)
			continue
		}
		now := fileState{size: st.Size(), modTime: st.ModTime()}
		if source.ArchiveKind(p) == "" {
			// Archives are followed by their path: their members'
			// checkpoints are not moved.
			id, err := b.runner.identityOf(p, st)
			if err != nil {
				// Not a failure to read the file: said once, and the
				// file is followed by its path only.
				problems.skipf(fmt.Errorf("%w: followed by its path only, a rename of it reads it again", err))
			}
			now.ident = id.String()
			found = append(found, foundFile{id: source.ID(abs[p]), ident: now.ident})
		}
		states[p] = now
	}
	for id := range b.runner.follow(found) {
		waiting[id] = true
	}
	for _, p := range paths {
		now, ok := states[p]
		if !ok || waiting[source.ID(abs[p])] {
			continue
		}
		// By absolute path, as the registry keeps the files the last run
		// read (newWatch): an input's relative pattern finds them too.
		if prev, ok := seen[abs[p]]; ok && prev.same(now) {
			continue
		}
		changed = append(changed, p)
	}
	// ended records how reading p ended; stop says ctx ended.
	ended := func(p string, err error) (stop bool) {
		if err == nil {
			seen[abs[p]] = states[p]
			if ctx.Err() == nil && b.runner.reg != nil && source.ArchiveKind(p) == "" {
				// Read to its end (not stopped on the way). Not an
				// archive: its members' events are not the archive's,
				// and would not hold its read state back.
				b.runner.reg.SetRead(source.ID(abs[p]), states[p].String())
			}
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
