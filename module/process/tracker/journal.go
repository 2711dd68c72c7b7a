package tracker

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/procbeat/procbeat/internal/durable"
)

// The tracker is persisted in its own files in path.data, not in the
// registry, so that a checkpoint no longer rewrites the whole process
// table:
//
//   - tracker.snapshot: the whole state (Save's format), written now and
//     then, atomically (temp file, fsync, rename);
//   - tracker.journal: what changed since that snapshot, appended at every
//     checkpoint (Flush): the processes started or changed, the processes
//     ended (with their entries, for the grace ring), the SIDs learned.
//
// Both start with a header naming a generation; the snapshot records the
// generation of the journal that follows it, so that a journal left from
// before a compaction (a crash between writing the snapshot and emptying
// the journal) is recognised and ignored rather than replayed over newer
// state. Load replays the journal's lines in order over the snapshot; a
// torn last line (a crash during an append) ends the replay there and is
// cut off. Replaying a line twice is harmless: a start replaces the entry
// of the same id, an end of an ended process changes nothing.
//
// Between two flushes, the tracker only marks what changed (slot numbers,
// no allocation per event): Flush encodes those entries as they are then.
// Compaction writes a new snapshot when the journal has grown past the last
// snapshot's size (at least MinCompactBytes), so disk writes stay
// proportional to the changes, and a restart reads at most about twice the
// table.

const (
	snapshotFile = "tracker.snapshot"
	journalFile  = "tracker.journal"
	journalName  = "procbeat-tracker-journal"
	// MinCompactBytes is the journal size below which it is never compacted.
	MinCompactBytes = 8 << 20
)

// unreadable is loadSnapshot's generation for a snapshot it could not read:
// no journal is replayed over it.
const unreadable = ^uint64(0)

type journalHeader struct {
	Format     string `json:"format"`
	Version    int    `json:"version"`
	Generation uint64 `json:"generation"`
}

// changes is what the tracker changed since the last Flush.
type changes struct {
	procs      []int32 // procs slots started or replaced
	procMarked []bool  // by slot: already in procs
	grace      []int32 // grace ring slots pushed
	graceMark  []bool  // by ring slot
	lostEnds   []procKey
	names      []int32 // sids.byName slots
	nameMarked []bool
}

func mark(list *[]int32, marked *[]bool, s int32) {
	for int(s) >= len(*marked) {
		*marked = append(*marked, false)
	}
	if !(*marked)[s] {
		(*marked)[s] = true
		*list = append(*list, s)
	}
}

func (c *changes) reset() {
	for _, s := range c.procs {
		c.procMarked[s] = false
	}
	for _, s := range c.grace {
		c.graceMark[s] = false
	}
	for _, s := range c.names {
		c.nameMarked[s] = false
	}
	c.procs, c.grace, c.lostEnds, c.names = c.procs[:0], c.grace[:0], c.lostEnds[:0], c.names[:0]
}

// The hooks below are called by the tracker, under its lock, where its
// state changes; they do nothing when no journal is attached.

// changedProc notes a process slot started or replaced.
func (t *Tracker) changedProc(s int32) {
	if t.changes != nil {
		mark(&t.changes.procs, &t.changes.procMarked, s)
	}
}

// endingProc is called before an ended process is pushed into the grace
// ring: it notes the ring slot it will take, and, when that slot holds an
// end not yet journaled, keeps that one's identity so that the journal
// still ends it.
func (t *Tracker) endingProc() {
	c := t.changes
	if c == nil || len(t.grace.slots) == 0 {
		return
	}
	i := int32(t.grace.next)
	if int(i) < len(c.graceMark) && c.graceMark[i] {
		old := &t.grace.slots[i]
		c.lostEnds = append(c.lostEnds, procKey{old.host, old.e.EntityID})
		return // the slot stays listed, and will hold the new entry
	}
	mark(&c.grace, &c.graceMark, i)
}

func (t *Tracker) learnedName(s int32) {
	if t.changes != nil {
		mark(&t.changes.names, &t.changes.nameMarked, s)
	}
}

// Journal keeps a Tracker's state in a directory (path.data): see above.
type Journal struct {
	t   *Tracker
	dir string

	mu       sync.Mutex
	f        *os.File // the journal, appended to
	gen      uint64
	size     int64 // journal bytes
	snapSize int64 // bytes of the last snapshot
	buf      bytes.Buffer
	// minCompact is MinCompactBytes (tests lower it).
	minCompact int64
}

// OpenJournal loads the state kept in dir into t (replacing t's) and
// attaches the journal to t, so that t's changes are recorded from now on.
// warn reports what was lost (an unreadable snapshot, a torn journal line);
// the tracker only enriches, so these cost ancestry, not events.
func OpenJournal(dir string, t *Tracker, warn func(format string, args ...any)) (*Journal, error) {
	j := &Journal{t: t, dir: dir, minCompact: MinCompactBytes}
	snapGen, err := j.loadSnapshot(warn)
	if err != nil {
		return nil, err
	}
	if err := j.replayJournal(snapGen, warn); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.changes = &changes{}
	t.mu.Unlock()
	return j, nil
}

// Empty reports whether dir holds no tracker state yet (a first start, or
// state kept the old way inside the registry).
func (j *Journal) Empty() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.snapSize == 0 && j.size <= int64(len(j.header()))
}

func (j *Journal) path(name string) string { return filepath.Join(j.dir, name) }

func (j *Journal) loadSnapshot(warn func(string, ...any)) (gen uint64, err error) {
	f, err := os.Open(j.path(snapshotFile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("tracker snapshot: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		j.snapSize = st.Size()
	}
	gen, err = j.t.loadFrom(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		// Its journal cannot be trusted without it either.
		warn("process table %s unreadable, starting empty: %v", f.Name(), err)
		j.snapSize = 0
		return unreadable, nil
	}
	return gen, nil
}

// replayJournal applies the journal over the snapshot and opens it for
// appending, starting a new one when it is missing, torn at its header or
// of an older generation.
func (j *Journal) replayJournal(snapGen uint64, warn func(string, ...any)) error {
	path := j.path(journalFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("tracker journal: %w", err)
	}
	good, gen, err := j.t.replay(f, snapGen)
	switch {
	case err == nil && good > 0:
		j.gen, j.size = gen, good
		if st, serr := f.Stat(); serr == nil && st.Size() > good {
			warn("process table journal %s: torn end after byte %d cut off", path, good)
		}
		if err := f.Truncate(good); err != nil {
			f.Close()
			return fmt.Errorf("tracker journal: %w", err)
		}
		if _, err := f.Seek(good, io.SeekStart); err != nil {
			f.Close()
			return fmt.Errorf("tracker journal: %w", err)
		}
		j.f = f
		return nil
	case err != nil:
		// What was applied up to the damage is kept: in a new snapshot.
		warn("process table journal %s: %v; its lines from there on are lost", path, err)
		j.f, j.gen = f, max(gen, snapGen)
		return j.compact()
	}
	j.f = f
	if snapGen == unreadable {
		// Replace the unreadable snapshot by the (empty) state.
		j.gen = 0
		return j.compact()
	}
	// No usable journal (none yet, or one the snapshot already holds): a
	// fresh one following the snapshot.
	j.gen = snapGen
	return j.restart()
}

// header is the journal's first line for j.gen, newline included.
func (j *Journal) header() []byte {
	b, _ := json.Marshal(journalHeader{Format: journalName, Version: formatVersion, Generation: j.gen})
	return append(b, '\n')
}

// restart empties the journal and writes its header for j.gen.
func (j *Journal) restart() error {
	hdr := j.header()
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("tracker journal: %w", err)
	}
	if _, err := j.f.WriteAt(hdr, 0); err != nil {
		return fmt.Errorf("tracker journal: %w", err)
	}
	if _, err := j.f.Seek(int64(len(hdr)), io.SeekStart); err != nil {
		return fmt.Errorf("tracker journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("tracker journal: %w", err)
	}
	j.size = int64(len(hdr))
	return nil
}

// Flush appends the changes since the last Flush and makes them durable;
// once it returns, every change made before the call survives a crash. It
// compacts the journal into a new snapshot when the journal has grown past
// the snapshot.
func (j *Journal) Flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return errors.New("tracker journal closed")
	}
	j.buf.Reset()
	if err := j.t.encodeChanges(&j.buf); err != nil {
		return err
	}
	if j.buf.Len() == 0 {
		return nil
	}
	n, err := j.f.Write(j.buf.Bytes())
	j.size += int64(n)
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("tracker journal %s: %w", j.f.Name(), err)
	}
	if j.buf.Cap() > 4<<20 {
		j.buf = bytes.Buffer{} // a burst's buffer is not kept
	}
	if j.size > max(j.snapSize, j.minCompact) {
		return j.compact()
	}
	return nil
}

// compact writes the whole table as a new snapshot for the next
// generation, then starts that generation's empty journal.
func (j *Journal) compact() error {
	next := j.gen + 1
	tmp := j.path(snapshotFile + ".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("tracker snapshot: %w", err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	err = j.t.save(bw, next)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	var size int64
	if st, serr := f.Stat(); serr == nil {
		size = st.Size()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, j.path(snapshotFile))
	}
	if err == nil {
		err = durable.SyncDir(j.dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("tracker snapshot: %w", err)
	}
	j.snapSize = size
	j.gen = next
	return j.restart()
}

// Snapshot writes the whole table as a new snapshot now (after a Load from
// elsewhere, which is not journaled).
func (j *Journal) Snapshot() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return errors.New("tracker journal closed")
	}
	return j.compact()
}

// Close flushes and releases the journal; the tracker records no more
// changes.
func (j *Journal) Close() error {
	err := j.Flush()
	j.t.mu.Lock()
	j.t.changes = nil
	j.t.mu.Unlock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		if cerr := j.f.Close(); err == nil {
			err = cerr
		}
		j.f = nil
	}
	return err
}

// encodeChanges writes, as journal lines, the changes since the last call
// and forgets them.
func (t *Tracker) encodeChanges(w *bytes.Buffer) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.changes
	if c == nil {
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	var err error
	for _, k := range c.lostEnds {
		if err == nil {
			err = enc.Encode(line{T: "x", Host: k.host, ID: k.id})
		}
	}
	for _, i := range c.grace {
		if g := &t.grace.slots[i]; err == nil && g.used {
			err = enc.Encode(line{T: "g", Host: g.host, Entry: persisted(&g.e)})
		}
	}
	// Ends first, then the live processes: a process started again
	// (records replayed) after it ended is live, and one started and
	// ended since the last flush is no longer in a live slot.
	for _, s := range c.procs {
		if err == nil && int(s) < t.procs.slots() && t.procs.node(s).used {
			err = enc.Encode(line{T: "p", Host: t.procs.key(s).host, Entry: persisted(t.procs.val(s))})
		}
	}
	for _, s := range c.names {
		if err == nil && int(s) < t.sids.byName.slots() && t.sids.byName.node(s).used {
			k := t.sids.byName.key(s)
			err = enc.Encode(line{T: "n", Host: k.host, Domain: k.domain, User: k.name, Logon: k.logon, SID: *t.sids.byName.val(s)})
		}
	}
	c.reset()
	if err != nil {
		return fmt.Errorf("tracker journal: %w", err)
	}
	return nil
}

// replay applies a journal's lines to t when its generation is at least
// minGen (older: the snapshot holds it already). It returns the length of
// the valid prefix (header and complete lines) and the journal's
// generation; good is 0 when the journal is empty or skipped.
func (t *Tracker) replay(r io.Reader, minGen uint64) (good int64, gen uint64, err error) {
	br := bufio.NewReaderSize(r, 256<<10)
	hdr, err := br.ReadBytes('\n')
	if err != nil {
		if len(hdr) == 0 && errors.Is(err, io.EOF) {
			return 0, 0, nil // empty: a new journal
		}
		return 0, 0, fmt.Errorf("header: %w", err)
	}
	var h journalHeader
	if err := json.Unmarshal(hdr, &h); err != nil || h.Format != journalName || h.Version != formatVersion {
		return 0, 0, fmt.Errorf("header %.80q: %w", hdr, ErrFormat)
	}
	if h.Generation < minGen {
		return 0, h.Generation, nil
	}
	good = int64(len(hdr))
	t.mu.Lock()
	defer t.mu.Unlock()
	for n := 2; ; n++ {
		b, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return good, h.Generation, nil // a partial last line is a torn append
		}
		if err != nil {
			return good, h.Generation, fmt.Errorf("line %d: %w", n, err)
		}
		if len(b) > maxLine {
			return good, h.Generation, fmt.Errorf("line %d: longer than %d bytes", n, maxLine)
		}
		var l line
		if err := json.Unmarshal(b, &l); err != nil {
			// Only an append can be torn, and it is the last one: a bad
			// line with more after it is damage, reported.
			if _, perr := br.Peek(1); perr == nil {
				return good, h.Generation, fmt.Errorf("line %d: %w", n, err)
			}
			return good, h.Generation, nil
		}
		if err := t.apply(&l, n); err != nil {
			return good, h.Generation, err
		}
		good += int64(len(b))
	}
}

// RemoveJournal deletes the state OpenJournal would load from dir (the
// snapshot and the journal), for a caller that starts over from the first
// record: the table is rebuilt from the records read again.
func RemoveJournal(dir string) error {
	for _, name := range []string{snapshotFile, snapshotFile + ".tmp", journalFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
