// Package registry keeps, per source, the position of the last event the
// output acknowledged, plus an opaque blob of other state, and persists both
// atomically in one checksummed file. Positions are opaque: the registry
// stores each source's Offset, Check and Bookmark verbatim.
package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
)

// Options configure a Registry. Zero values take defaults.
type Options struct {
	FS       FS // default OS{}
	Logger   monitoring.Logger
	Counters *monitoring.Counters
	Now      func() time.Time // names moved-aside files
}

func (o Options) withDefaults() Options {
	if o.FS == nil {
		o.FS = OS{}
	}
	if o.Logger == nil {
		o.Logger = monitoring.NopLogger{}
	}
	if o.Counters == nil {
		o.Counters = &monitoring.Counters{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Registry tracks delivery per source. It implements pipeline.Checkpoints.
type Registry struct {
	path string
	opts Options

	mu      sync.Mutex
	sources map[string]*window
	extra   []byte
	gen     uint64          // bumped on every change worth writing
	links   int             // pending slots linked to a slot of another source (Link)
	reach   map[*window]int // settle's scratch, kept to spare a map per call

	writeMu sync.Mutex
	written uint64 // gen last persisted
}

// window is one source's in-order acknowledgement tracker: the events
// published and not yet passed by the checkpoint, oldest first.
type window struct {
	cp    pipeline.Position
	has   bool
	ident string // the file's native identity (SetIdentity), "" if unknown
	read  string // what the file was when last read to its end (SetRead)
	base  uint64 // sequence number of q[start]
	next  uint64 // next sequence number to hand out
	q     []slot
	start int
}

type slot struct {
	offset   uint64
	check    uint64
	bookmark string
	acked    bool
	linked   bool            // link is set: see Link
	link     pipeline.Ticket // the twin record of another source
}

func newRegistry(path string, opts Options) *Registry {
	return &Registry{path: path, opts: opts, sources: make(map[string]*window)}
}

// Open loads the registry at path; a missing file yields an empty registry.
// Temp files left by an interrupted write are removed. A file that fails
// validation yields a *CorruptError (errors.Is(err, ErrCorrupt)) and is left
// in place; the caller decides (see OpenOrFresh).
func Open(path string, opts Options) (*Registry, error) {
	opts = opts.withDefaults()
	r := newRegistry(path, opts)
	r.removeStaleTemps()
	data, err := opts.FS.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		opts.Logger.Debugf("registry %s absent: every source is read from its start", path)
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading registry %s: %w", path, err)
	}
	st, err := Decode(data)
	if err != nil {
		var ce *CorruptError
		var ve *VersionError
		switch {
		case errors.As(err, &ce):
			ce.Path = path
		case errors.As(err, &ve):
			ve.Path = path
		}
		return nil, err
	}
	if st.Dropped > 0 {
		opts.Logger.Warnf("registry %s was written by an older procbeat (format version %d), whose positions (record ids, record counts) are not positions in the files: its %d positions are dropped and every source is read again from its beginning (Elasticsearch drops the documents it already holds by _id); the rest of the state is kept", path, st.Version, st.Dropped)
	}
	for _, p := range st.Positions {
		// A file's identity is absent from registries written before
		// procbeat followed files by it: SetIdentity binds one when the
		// file is next seen at its path.
		r.sources[p.Source] = &window{cp: p, has: true, ident: st.Identities[p.Source], read: st.Reads[p.Source]}
	}
	for src, read := range st.Reads {
		if r.sources[src] == nil {
			// A file read to its end that gave no event yet.
			r.sources[src] = &window{cp: pipeline.Position{Source: src}, ident: st.Identities[src], read: read}
		}
	}
	r.extra = st.Extra
	opts.Logger.Debugf("registry %s loaded: %d source positions", path, len(st.Positions))
	return r, nil
}

// OpenOrFresh is Open with the default policy for a corrupt file: move it
// aside (to <path>.corrupt-<timestamp>), log an error saying so and start
// with an empty registry, so sources are read again from their beginning.
// Other errors (unreadable file, newer version) are returned.
func OpenOrFresh(path string, opts Options) (*Registry, error) {
	opts = opts.withDefaults()
	r, err := Open(path, opts)
	if err == nil || !errors.Is(err, ErrCorrupt) {
		return r, err
	}
	moved, merr := MoveAside(path, opts)
	if merr != nil {
		return nil, errors.Join(err, merr)
	}
	opts.Logger.Errorf("%v; moved it to %s and starting with an EMPTY registry: every source will be read again from its beginning (Elasticsearch drops the duplicates by _id)", err, moved)
	return newRegistry(path, opts), nil
}

// MoveAside renames the registry file to <path>.corrupt-<UTC timestamp> and
// returns the new name.
func MoveAside(path string, opts Options) (string, error) {
	opts = opts.withDefaults()
	to := path + ".corrupt-" + opts.Now().UTC().Format("20060102T150405.000000000Z")
	if err := opts.FS.Rename(path, to); err != nil {
		return "", fmt.Errorf("moving corrupt registry %s aside: %w", path, err)
	}
	if err := opts.FS.SyncDir(filepath.Dir(path)); err != nil {
		return "", fmt.Errorf("moving corrupt registry %s aside: sync dir: %w", path, err)
	}
	return to, nil
}

func (r *Registry) tempPrefix() string { return filepath.Base(r.path) + ".tmp-" }

func (r *Registry) removeStaleTemps() {
	dir := filepath.Dir(r.path)
	entries, err := r.opts.FS.ReadDir(dir)
	if err != nil {
		return // a missing dir is normal on first start
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), r.tempPrefix()) {
			name := filepath.Join(dir, e.Name())
			if err := r.opts.FS.Remove(name); err != nil {
				r.opts.Logger.Warnf("removing stale registry temp file %s: %v", name, err)
			}
		}
	}
}

// Path is the registry file's path.
func (r *Registry) Path() string { return r.path }

// Position is the last acknowledged position of source.
func (r *Registry) Position(source string) (pipeline.Position, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.sources[source]
	if !ok || !w.has {
		return pipeline.Position{}, false
	}
	return w.cp, true
}

// Pending is how many events of sources were published (or reserved) and
// are not yet passed by their checkpoints: not acknowledged, or
// acknowledged behind one that is not, or waiting for a linked twin.
func (r *Registry) Pending(sources ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range sources {
		if w := r.sources[s]; w != nil {
			n += w.pending()
		}
	}
	return n
}

// Forget drops the positions of the sources match selects that have
// nothing in flight (a source with events not yet passed by its
// checkpoint keeps its window); it returns how many it dropped. A file
// removed for good needs its position no more, and a long-running
// collector whose files come and go would otherwise keep, and write at
// every checkpoint, the positions of every file it ever read.
func (r *Registry) Forget(match func(source string) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for s, w := range r.sources {
		if w.pending() == 0 && match(s) {
			delete(r.sources, s)
			n++
		}
	}
	if n > 0 {
		r.gen++
	}
	return n
}

// SetIdentity records the native identity of the file source reads
// (source.Identity.String(); "" when unknown), kept and written with its
// position, so that the position can follow the file when it is renamed
// (Identified, Adopt).
func (r *Registry) SetIdentity(source, identity string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.sources[source]
	if w == nil {
		if identity == "" {
			return
		}
		w = &window{cp: pipeline.Position{Source: source}}
		r.sources[source] = w
	}
	if w.ident != identity {
		w.ident = identity
		if w.kept() {
			r.gen++
		}
	}
}

// SetRead records what the file source reads was when a read of it
// reached its end (its size and time, opaque here). It is written once
// every event of the source begun before is acknowledged: a restart that
// finds the file as it was then need not read it again, for it would send
// nothing, only report the file's damage again. It goes with the
// position (Adopt, Forget).
func (r *Registry) SetRead(source, read string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.sources[source]
	if w == nil {
		w = &window{cp: pipeline.Position{Source: source}}
		r.sources[source] = w
	}
	if w.read != read {
		w.read = read
		r.gen++
	}
}

// Reads lists, by source, what the files were when last read to their
// end (SetRead), loaded or recorded, all of their events acknowledged.
func (r *Registry) Reads() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readsLocked()
}

func (r *Registry) readsLocked() map[string]string {
	return r.bySourceLocked(func(w *window) string {
		if w.pending() > 0 {
			return ""
		}
		return w.read
	})
}

// bySourceLocked maps the sources to what f says of them, those it says
// nothing ("") of left out; nil when empty, so that the file holds no
// empty field.
func (r *Registry) bySourceLocked(f func(*window) string) map[string]string {
	var out map[string]string
	for s, w := range r.sources {
		if v := f(w); v != "" {
			if out == nil {
				out = make(map[string]string)
			}
			out[s] = v
		}
	}
	return out
}

// Identity is the file identity recorded for source (SetIdentity), ""
// when none is.
func (r *Registry) Identity(source string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w := r.sources[source]; w != nil {
		return w.ident
	}
	return ""
}

// Identified lists the positions kept with a file identity, by identity.
func (r *Registry) Identified() map[string][]pipeline.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]pipeline.Position)
	for _, w := range r.sources {
		if w.kept() && w.ident != "" {
			out[w.ident] = append(out[w.ident], w.cp)
		}
	}
	return out
}

// Move gives To the position (and identity) From has: the file From read
// is now at To.
type Move struct{ From, To string }

// Adopt makes the moves at once, as one rename of many files (a rotation
// shifting a-1 to a-2 and a to a-1): every From's position is taken
// before any To gets one, and a From that is no move's To is dropped. A
// To already holding a position loses it (another file is there now). A
// move whose From or To has events in flight is not made (their
// acknowledgements name the source): Adopt returns those made, and the
// caller tries the others again later.
func (r *Registry) Adopt(moves []Move) (made []Move) {
	r.mu.Lock()
	defer r.mu.Unlock()
	taken := make(map[string]*window, len(moves))
	for _, m := range moves {
		from, to := r.sources[m.From], r.sources[m.To]
		if from == nil || !from.kept() || from.pending() > 0 || (to != nil && to.pending() > 0) {
			continue
		}
		taken[m.From] = from
		made = append(made, m)
	}
	for from := range taken {
		delete(r.sources, from)
	}
	for _, m := range made {
		w := taken[m.From]
		cp := w.cp
		cp.Source = m.To
		r.sources[m.To] = &window{cp: cp, has: w.has, ident: w.ident, read: w.read}
	}
	if len(made) > 0 {
		r.gen++
	}
	return made
}

func (w *window) pending() int { return len(w.q) - w.start }

// kept says w holds something to write: a position, or a read state.
func (w *window) kept() bool { return w.has || w.read != "" }

// Positions lists every source's last acknowledged position, by source.
func (r *Registry) Positions() []pipeline.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.positionsLocked()
}

// identitiesLocked are the identities of what is written.
func (r *Registry) identitiesLocked() map[string]string {
	return r.bySourceLocked(func(w *window) string {
		if !w.kept() {
			return ""
		}
		return w.ident
	})
}

func (r *Registry) positionsLocked() []pipeline.Position {
	out := make([]pipeline.Position, 0, len(r.sources))
	for _, w := range r.sources {
		if w.has {
			out = append(out, w.cp)
		}
	}
	slices.SortFunc(out, func(a, b pipeline.Position) int { return strings.Compare(a.Source, b.Source) })
	return out
}

// Extra returns the opaque state loaded or last set.
func (r *Registry) Extra() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.extra)
}

// SetExtra replaces the opaque state; the next Flush writes it together
// with the positions, in the same file.
func (r *Registry) SetExtra(b []byte) {
	r.mu.Lock()
	r.extra = slices.Clone(b)
	r.gen++
	r.mu.Unlock()
}

// Begin registers an event about to be published (pipeline.Checkpoints).
func (r *Registry) Begin(pos pipeline.Position) pipeline.Ticket {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.sources[pos.Source]
	if w == nil {
		w = &window{cp: pipeline.Position{Source: pos.Source}}
		r.sources[pos.Source] = w
	}
	seq := w.next
	w.next++
	w.q = append(w.q, slot{offset: pos.Offset, check: pos.Check, bookmark: pos.Bookmark})
	return pipeline.Ticket{Source: pos.Source, Seq: seq}
}

// Done acknowledges events and advances each source's checkpoint to its
// highest contiguously acknowledged event (pipeline.Checkpoints).
func (r *Registry) Done(tickets []pipeline.Ticket) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.links > 0 {
		for _, t := range tickets {
			if _, s := r.slot(t); s != nil {
				s.acked = true
			}
		}
		r.settle()
		return
	}
	var last *window
	for _, t := range tickets {
		w, s := r.slot(t)
		if s == nil {
			continue // unknown or already passed: nothing to do
		}
		s.acked = true
		if w != last {
			if last != nil {
				r.advance(last)
			}
			last = w
		}
	}
	if last != nil {
		r.advance(last)
	}
}

// slot is t's event in its source's window, nil when the source is
// unknown or its checkpoint passed the event already; under mu.
func (r *Registry) slot(t pipeline.Ticket) (*window, *slot) {
	w := r.sources[t.Source]
	if w == nil || t.Seq < w.base || t.Seq >= w.next {
		return w, nil
	}
	return w, &w.q[w.start+int(t.Seq-w.base)]
}

// Link ties two events of different sources that went into one document
// (pipeline.Linker): neither source's checkpoint passes its event until
// the other's could pass the other, so a restart reads both again or
// neither. Call it after Begin of both and before Done of either.
func (r *Registry) Link(a, b pipeline.Ticket) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range [2][2]pipeline.Ticket{{a, b}, {b, a}} {
		_, s := r.slot(t[0])
		if s == nil {
			continue // passed already: nothing to hold
		}
		if !s.linked {
			r.links++
		}
		s.linked, s.link = true, t[1]
	}
}

// settle advances every source as far as links allow: each source's
// acknowledged prefix is cut before its first linked event whose twin
// lies beyond the twin source's prefix, until no prefix shrinks (the
// greatest prefixes consistent with the links, so twins acknowledged
// together pass together even when they wait on each other crosswise).
func (r *Registry) settle() {
	if r.reach == nil {
		r.reach = make(map[*window]int, len(r.sources))
	}
	reach := r.reach
	clear(reach)
	for _, w := range r.sources {
		n := 0
		for w.start+n < len(w.q) && w.q[w.start+n].acked {
			n++
		}
		reach[w] = n
	}
	for changed := true; changed; {
		changed = false
		for w, n := range reach {
			for i := range n {
				s := &w.q[w.start+i]
				if !s.linked {
					continue
				}
				tw := r.sources[s.link.Source]
				if tw == nil || s.link.Seq < tw.base || int(s.link.Seq-tw.base) < reach[tw] {
					continue
				}
				reach[w], changed = i, true
				break
			}
		}
	}
	for w, n := range reach {
		r.advanceN(w, n)
	}
}

func (r *Registry) advance(w *window) { r.advanceN(w, len(w.q)) }

// advanceN moves w's checkpoint over at most n acknowledged events.
func (r *Registry) advanceN(w *window, n int) {
	moved := false
	for ; n > 0 && w.start < len(w.q) && w.q[w.start].acked; n-- {
		s := w.q[w.start]
		if s.linked {
			r.links--
		}
		w.q[w.start] = slot{}
		w.start++
		w.base++
		// The checkpoint is the position of the last event acknowledged
		// in publish order, whatever its value: positions are opaque (a
		// source that found its file replaced starts again at a lower
		// one).
		w.cp.Offset, w.cp.Check, w.cp.Bookmark, w.has = s.offset, s.check, s.bookmark, true
		moved = true
	}
	if w.start == len(w.q) {
		w.q, w.start = w.q[:0], 0
	} else if w.start > 1024 && w.start*2 > len(w.q) {
		n := copy(w.q, w.q[w.start:])
		w.q, w.start = w.q[:n], 0
	}
	if moved {
		r.gen++
	}
}

// Flush writes the registry if it changed since the last write: temp file
// in the same directory, fsync, rename over the old file, fsync the dir.
func (r *Registry) Flush() error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.mu.Lock()
	if r.gen == r.written {
		r.mu.Unlock()
		return nil
	}
	gen := r.gen
	st := State{Positions: r.positionsLocked(), Identities: r.identitiesLocked(), Reads: r.readsLocked(), Extra: r.extra}
	r.mu.Unlock()

	data, err := Encode(st)
	if err == nil {
		err = r.writeAtomic(data)
	}
	if err != nil {
		r.opts.Counters.RegistryErrors.Add(1)
		return fmt.Errorf("writing registry %s: %w", r.path, err)
	}
	r.opts.Counters.RegistryWrites.Add(1)
	r.written = gen
	r.opts.Logger.Debugf("registry %s written: %d source positions", r.path, len(st.Positions))
	return nil
}

func (r *Registry) writeAtomic(data []byte) error {
	fsys := r.opts.FS
	dir := filepath.Dir(r.path)
	if err := fsys.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := fsys.CreateTemp(dir, r.tempPrefix()+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, r.path)
	}
	if err != nil {
		_ = fsys.Remove(tmp)
		return err
	}
	return fsys.SyncDir(dir)
}
