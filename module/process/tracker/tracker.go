// Package tracker keeps, per host, the table of live processes that the
// mapping needs to enrich events: ancestry for process starts, the started
// process's details for ends and for sources that only carry a pid, and the
// user SIDs learned from Security events.
//
// Processes are keyed by (host, entity id) and can also be found by
// (host, pid, time), which resolves pid reuse. Memory is bounded: the
// process and SID tables each have a cap with least-recently-used eviction
// (O(1) per operation), and ended processes stay findable in a fixed-size
// grace ring so that late events about them still resolve. Save and Load
// persist the whole state so that it survives a restart.
//
// A Tracker is safe for concurrent use.
package tracker

import (
	"encoding/base64"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/procbeat/procbeat/internal/lower"
	"github.com/procbeat/procbeat/internal/prefault"
	"github.com/procbeat/procbeat/module/process/winfmt"
)

// MaxAncestry is the length of Entry.Ancestry at most, as in Elastic Defend.
const MaxAncestry = 20

// Defaults for Options.
const (
	// DefaultMaxProcesses is also procbeat.tracker.max_processes' default.
	DefaultMaxProcesses = 100000
	DefaultMaxSIDs      = 1 << 14
	DefaultGrace        = 1024
	// DefaultMaxQuiet is how long a process whose end was not seen is
	// presumed alive after it was last seen (see Options.MaxQuiet).
	DefaultMaxQuiet = 24 * time.Hour
)

// Options bound the tracker. Zero fields take the defaults.
type Options struct {
	MaxProcesses int // live processes kept, over all hosts
	MaxSIDs      int // learned SIDs kept, per table (by name, by logon id)
	Grace        int // ended processes kept findable; negative disables
	// MaxQuiet bounds how long a process whose end was not seen counts as
	// alive after it was last seen (started, or named as a parent). Logs
	// rarely hold every end, and a replay of a collection runs recordings of
	// the same host name from different days or boots through one tracker:
	// a process seen months before a child was not its parent, and a wrong
	// parent is worse than none. A child event that names its parent's
	// image attests that the parent is alive and needs no such bound.
	MaxQuiet time.Duration
}

// User is the account a process runs as.
type User struct {
	Domain string `json:"domain,omitempty"`
	Name   string `json:"name,omitempty"`
	ID     string `json:"id,omitempty"` // SID
}

// PE holds the version resource strings of the image.
type PE struct {
	OriginalFileName string `json:"original_file_name,omitempty"`
	FileVersion      string `json:"file_version,omitempty"`
	Description      string `json:"description,omitempty"`
	Product          string `json:"product,omitempty"`
	Company          string `json:"company,omitempty"`
}

// Token describes the process token.
type Token struct {
	IntegrityLevelName string `json:"integrity_level_name,omitempty"` // winfmt.Integrity*
	ElevationLevel     string `json:"elevation_level,omitempty"`      // winfmt.Elevation*
}

// Entry is what the tracker knows about one process. Field names follow the
// Defend document (process.*).
type Entry struct {
	EntityID       string `json:"entity_id"`
	PID            uint32 `json:"pid"`
	ParentEntityID string `json:"parent_entity_id,omitempty"`
	ParentPID      uint32 `json:"parent_pid,omitempty"`
	// ParentExecutable is the parent's image as the child's own event
	// names it, empty when it does not (Security 4688 v0, Sysmon's "?").
	ParentExecutable string `json:"parent_executable,omitempty"`
	Executable       string `json:"executable,omitempty"`
	Name             string `json:"name,omitempty"`
	CommandLine      string `json:"command_line,omitempty"`
	// Args are the arguments when the caller keeps them here (read-only,
	// shared); the mapping keeps those of the command lines its cache
	// holds, else ArgsCount alone, and then splits CommandLine for each
	// document.
	Args      []string `json:"args,omitempty"`
	ArgsCount int      `json:"args_count,omitempty"`
	User      User     `json:"user,omitzero"`
	// Hashes are as the start event logged them (winfmt.SplitHashes) or
	// lower-cased (the mapping keeps them so): documents and saved states
	// get them lower-cased.
	Hashes           winfmt.Hashes `json:"hashes,omitzero"`
	PE               PE            `json:"pe,omitzero"`
	Token            Token         `json:"token,omitzero"`
	AuthenticationID string        `json:"authentication_id,omitempty"` // logon id as logged, e.g. 0x3e7
	SessionID        uint32        `json:"session_id,omitempty"`
	HasSessionID     bool          `json:"has_session_id,omitempty"`
	WorkingDirectory string        `json:"working_directory,omitempty"`
	Start            time.Time     `json:"start,omitzero"`
	// Ancestry holds the entity ids of the ancestors, parent first, at most
	// MaxAncestry. Start fills it; callers treat it as read-only.
	Ancestry []string `json:"ancestry,omitempty"`
	// End is set by End.
	End time.Time `json:"end,omitzero"`
	// Seen is the latest time the process was known alive: its start, or
	// the start of a child linked to it.
	Seen time.Time `json:"seen,omitzero"`
}

type procKey struct{ host, id string }

// slotMeta is what the tracker keeps of a slot of the process table beside
// its entry, set by linkPID (every entry stored is linked), in one array:
// a start reads or writes all of it, and a large table's entries are
// rarely in the cache.
type slotMeta struct {
	// start is the entry's start: boot and lookupPIDSlot compare the
	// starts of a host's or a pid's processes here, not in the entries.
	start time.Time
	// kids is the ancestry the process gives its children once one has
	// started (childAncestry): one allocation per parent instead of one
	// per child.
	kids []string
	// pidNext chains the slots of one (host, pid), newest first, and
	// pidPrev back (-1 at the head), so that a slot leaves its chain
	// without a walk through the older ones' meta, seldom in the cache.
	pidNext, pidPrev int32
}

// reset is m for a slot that now holds e (its pid link aside).
func (m *slotMeta) reset(e *Entry) { m.start, m.kids = e.Start, nil }

// pidHeadIs reports whether s is the newest slot of (host, pid).
func (t *Tracker) pidHeadIs(host string, pid uint32, s int32) bool {
	h, ok := t.pidHead.get(host, pid)
	return ok && h == s
}

// Tracker is the per-host process table. Create it with New.
type Tracker struct {
	mu      sync.Mutex
	opts    Options
	procs   *lru[procKey, Entry]
	pidHead pidIndex // newest slot per (host, pid)
	// meta holds, parallel to procs' slots, what the tracker keeps of
	// each slot apart from its entry (see slotMeta).
	meta []slotMeta
	// bootMarks is boot's scratch: a bit per slot it ends.
	bootMarks []uint64
	// orphans is the ancestry of the last child started whose parent is
	// not tracked: its parent's id alone.
	orphans struct {
		host, parent string
		anc          []string
	}
	grace graceRing
	sids  sidTables
	// changes, when a Journal is attached, marks what changed since its
	// last Flush (journal.go).
	changes *changes
	// seed hashes the keys of the tables (procHash, nameHash); lastHost's
	// hash is kept, as records come in runs of one host.
	seed     maphash.Seed
	keyBuf   [2][64]byte // learnedSlot's, under mu
	lastHost struct {
		name string
		hash uint64
		set  bool
	}
}

// hostHash is the hash of host, kept for the next records of the host.
func (t *Tracker) hostHash(host string) uint64 {
	l := &t.lastHost
	if !l.set || host != l.name {
		l.name, l.hash, l.set = host, maphash.String(t.seed, host), true
	}
	return l.hash
}

// hashMix folds the hash of a key's next part into h.
func hashMix(h, part uint64) uint64 { return (h^part)*0x9e3779b97f4a7c15 + part }

// procHash is the process table's hash of k (see lru).
func (t *Tracker) procHash(k procKey) uint64 {
	return hashMix(t.hostHash(k.host), maphash.String(t.seed, k.id))
}

// getProc is t.procs.get(k), hashed without an indirect call.
func (t *Tracker) getProc(k procKey) (int32, bool) { return t.procs.getHashed(k, t.procHash(k)) }

// peekProc is t.procs.peek(k), hashed without an indirect call.
func (t *Tracker) peekProc(k procKey) (int32, bool) { return t.procs.find(k, t.procHash(k)) }

// New returns an empty tracker.
func New(opts Options) *Tracker {
	if opts.MaxProcesses <= 0 {
		opts.MaxProcesses = DefaultMaxProcesses
	}
	if opts.MaxSIDs <= 0 {
		opts.MaxSIDs = DefaultMaxSIDs
	}
	if opts.Grace == 0 {
		opts.Grace = DefaultGrace
	}
	if opts.MaxQuiet <= 0 {
		opts.MaxQuiet = DefaultMaxQuiet
	}
	t := &Tracker{opts: opts, pidHead: newPIDIndex(), seed: maphash.MakeSeed()}
	t.procs = newLRU[procKey, Entry](opts.MaxProcesses)
	t.procs.hash = t.procHash
	t.procs.onEvict = t.unlinkPID
	t.grace.init(opts.Grace, t.procHash)
	t.sids.init(opts.MaxSIDs)
	t.sids.byName.hash = t.nameHash
	return t
}

// Len returns the number of live processes tracked.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.procs.len()
}

// SyntheticEntityID returns a deterministic entity id for a process known
// only from sources without a process GUID (Security 4688): the standard
// base64 encoding of "<host>-<pid>-<start>", where host is lowercased and
// start is the start time in seconds since 1601-01-01 UTC with 7 decimals
// (the 100 ns resolution of Windows FILETIME). It mirrors the shape of
// Elastic Defend's ids with the host name in place of the agent id, so ids
// stay unique across hosts. The same inputs always give the same id.
func SyntheticEntityID(host string, pid uint32, start time.Time) string {
	const epochDelta = 11644473600 // seconds from 1601-01-01 to 1970-01-01
	start = start.UTC()
	secs := start.Unix() + epochDelta
	ticks := start.Nanosecond() / 100
	var stack [128]byte
	buf := lower.Append(stack[:0], host)
	buf = append(buf, '-')
	buf = strconv.AppendUint(buf, uint64(pid), 10)
	buf = append(buf, '-')
	buf = strconv.AppendInt(buf, secs, 10)
	buf = append(buf, '.')
	// Seven digits: ticks < 10^7.
	for p := 1000000; p > 1; p /= 10 {
		if ticks < p {
			buf = append(buf, '0')
		}
	}
	buf = strconv.AppendInt(buf, int64(ticks), 10)
	// One allocation: the id is written once and never changed.
	id := make([]byte, base64.StdEncoding.EncodedLen(len(buf)))
	base64.StdEncoding.Encode(id, buf)
	return unsafe.String(unsafe.SliceData(id), len(id))
}

// Start records a started process and returns the stored entry with its
// ancestry filled in. An empty EntityID is replaced by SyntheticEntityID.
// The parent is found by ParentEntityID or, when that is empty, by
// ParentPID at e.Start (filling ParentEntityID from it); either way a
// candidate is the parent only if it could have been (see ParentOf). The
// ancestry is the parent's id followed by the parent's ancestry, cut at
// MaxAncestry; an untracked parent with a known id gives an ancestry of
// that id alone. Starting an id that is already tracked replaces it.
//
// The start of smss.exe by the System process (pid 4) is a boot: every
// live process of the host that started before it ended then, so none of
// them becomes a parent of a later process by pid.
func (t *Tracker) Start(host string, e Entry) Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.start(host, &e)
	return e
}

// StartParent is Start and then ParentOf of the started process, at once:
// it records *e, which it leaves as Start returns it, and puts in *parent
// what ParentOf(host, e) returns. The mapping asks both for every start;
// the parent Start found is most often the one ParentOf finds, without
// a second search.
func (t *Tracker) StartParent(host string, e, parent *Entry) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.start(host, e)
	if s >= 0 && e.ParentEntityID != "" && t.procs.key(s) == (procKey{host, e.ParentEntityID}) {
		// Still in its slot (inserting e evicted another): ParentOf's
		// search would find this slot, and touch it.
		t.procs.touch(s)
		if p := t.procs.val(s); t.couldBeParent(p, e) {
			*parent = *p
			return true
		}
		return false
	}
	return t.parentOf(host, e, parent)
}

// start is Start under the lock. It returns the slot of the live parent
// it found, -1 when it found none or an ended one.
func (t *Tracker) start(host string, e *Entry) int32 {
	if e.EntityID == "" {
		e.EntityID = SyntheticEntityID(host, e.PID, e.Start)
	}
	if e.ParentPID == 4 && strings.EqualFold(e.Name, "smss.exe") && !e.Start.IsZero() {
		t.boot(host, e.Start)
	}
	var parent *Entry
	parentSlot := int32(-1) // when live
	if e.ParentEntityID != "" {
		if s, ok := t.getProc(procKey{host, e.ParentEntityID}); ok {
			parent, parentSlot = t.procs.val(s), s
		} else if g := t.grace.byID(host, e.ParentEntityID); g != nil {
			parent = g
		}
		if parent != nil && !t.couldBeParent(parent, e) {
			parent = nil
		}
	} else if e.ParentPID != 0 {
		if p, s, ok := t.lookupPIDSlot(host, e.ParentPID, e.Start, true); ok && t.couldBeParent(p, e) {
			parent, parentSlot = p, s
			e.ParentEntityID = p.EntityID
		}
	}
	if parent != nil && e.Start.After(parent.Seen) {
		parent.Seen = e.Start
	}
	e.Seen = e.Start
	switch {
	case parent != nil && parent.EntityID != e.EntityID:
		e.Ancestry = t.childAncestry(parentSlot, parent)
	case e.ParentEntityID != "":
		// An untracked parent's children come in runs (a log that
		// starts after their parent did): they share one ancestry.
		if o := &t.orphans; o.host != host || o.parent != e.ParentEntityID {
			o.host, o.parent, o.anc = host, e.ParentEntityID, []string{e.ParentEntityID}
		}
		e.Ancestry = t.orphans.anc
	default:
		e.Ancestry = nil
	}
	e.End = time.Time{}
	k := procKey{host, e.EntityID}
	h := t.procHash(k) // one hash for the search and the insertion
	s, ok := t.procs.find(k, h)
	switch {
	case ok && t.procs.val(s).PID == e.PID && t.pidHeadIs(host, e.PID, s):
		// Replaced in its slot by the same pid, the newest of its
		// (host, pid): unlinking and linking it again would leave the
		// pid index as it is.
		t.procs.set(s, e)
		t.meta[s].reset(e)
	case ok:
		// Replaced in its slot: only its pid link goes first.
		t.unlinkPID(s)
		t.procs.set(s, e)
		t.linkPID(s)
	default:
		s = t.procs.insertHashed(k, h, e)
		t.linkPID(s)
	}
	t.changedProc(s)
	if parent == nil {
		return -1
	}
	return parentSlot
}

// childAncestry is the ancestry of p's children: p's id, then p's
// ancestry, cut at MaxAncestry. For a live p (slot s >= 0) it is made once
// and shared by all its children: ancestries are read-only, and a slot's
// entry changes only through linkPID, which forgets it.
func (t *Tracker) childAncestry(s int32, p *Entry) []string {
	if s >= 0 && t.meta[s].kids != nil {
		return t.meta[s].kids
	}
	n := min(len(p.Ancestry), MaxAncestry-1)
	anc := make([]string, 0, n+1)
	anc = append(anc, p.EntityID)
	anc = append(anc, p.Ancestry[:n]...)
	if s >= 0 {
		t.meta[s].kids = anc
	}
	return anc
}

// ParentOf returns the tracked parent of c, found by c.ParentEntityID,
// when it could be c's parent (see couldBeParent): the same test Start
// applied, so the parent fields of c's documents never come from a process
// that Start refused as its parent.
func (t *Tracker) ParentOf(host string, c *Entry) (Entry, bool) {
	if c.ParentEntityID == "" {
		return Entry{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var p Entry
	ok := t.parentOf(host, c, &p)
	return p, ok
}

// parentOf is ParentOf under the lock, the parent put in *parent.
func (t *Tracker) parentOf(host string, c, parent *Entry) bool {
	if c.ParentEntityID == "" {
		return false
	}
	var p *Entry
	if s, ok := t.getProc(procKey{host, c.ParentEntityID}); ok {
		p = t.procs.val(s)
	} else if p = t.grace.byID(host, c.ParentEntityID); p == nil {
		return false
	}
	if !t.couldBeParent(p, c) {
		return false
	}
	*parent = *p
	return true
}

// couldBeParent reports whether p can be the parent of the starting
// process c: p is not c, started no later than c and had not ended before
// c started; what c's event says of its parent (pid, image) does not
// contradict p; and p was last seen no more than MaxQuiet before c started,
// unless c's event names p's image. Zero times are unknown and contradict
// nothing.
func (t *Tracker) couldBeParent(p, c *Entry) bool {
	if p.EntityID == c.EntityID {
		return false
	}
	if c.ParentPID != 0 && p.PID != c.ParentPID {
		return false
	}
	attested := false
	if c.ParentExecutable != "" && p.Executable != "" {
		// Mostly the same bytes: compared whole before fold by fold.
		if c.ParentExecutable != p.Executable && !strings.EqualFold(c.ParentExecutable, p.Executable) {
			return false
		}
		attested = true
	}
	if c.Start.IsZero() {
		return true
	}
	if !p.Start.IsZero() && p.Start.After(c.Start) {
		return false
	}
	if !p.End.IsZero() && p.End.Before(c.Start) {
		return false
	}
	return attested || !p.End.IsZero() || !t.quiet(p, c.Start)
}

// quiet reports whether p, not seen ending, was last seen more than
// MaxQuiet before at.
func (t *Tracker) quiet(p *Entry, at time.Time) bool {
	seen := p.Seen
	if seen.IsZero() || seen.Before(p.Start) {
		seen = p.Start
	}
	return !seen.IsZero() && at.Sub(seen) > t.opts.MaxQuiet
}

// boot ends, at time at, every live process of host that started before
// it: a reboot ended them whether or not their end was logged. They leave
// the table rather than the grace ring, which a boot would flush.
func (t *Tracker) boot(host string, at time.Time) {
	// The host's live processes are those of its pid index: counting
	// the ones that started before at touches only them, and most boots
	// (the first of each recording in a collection) end none.
	n := 0
	for _, s := range t.pidHead.of(host, false) {
		for ; s >= 0; s = t.meta[s].pidNext {
			if t.meta[s].start.Before(at) {
				for int(s/64) >= len(t.bootMarks) {
					t.bootMarks = append(t.bootMarks, 0)
				}
				t.bootMarks[s/64] |= 1 << (s % 64)
				n++
			}
		}
	}
	if n == 0 {
		return
	}
	// They leave in recency order, least recent first, as they always
	// did: the order their slots are freed in decides the slots of the
	// next processes, and so the order of the journal's lines. The walk
	// (through the links and the marks, not the entries) stops at the
	// last of them, and leaves no mark behind.
	dead := make([]int32, 0, n)
	for s := t.procs.tail; s >= 0 && len(dead) < n; s = t.procs.links[s].prev {
		if int(s/64) < len(t.bootMarks) && t.bootMarks[s/64]&(1<<(s%64)) != 0 {
			t.bootMarks[s/64] &^= 1 << (s % 64)
			dead = append(dead, s)
		}
	}
	for _, s := range dead {
		t.unlinkPID(s)
		t.procs.remove(s)
	}
}

// Lookup returns the process with the given entity id, live or recently
// ended (then End is set).
func (t *Tracker) Lookup(host, entityID string) (Entry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.getProc(procKey{host, entityID}); ok {
		return *t.procs.val(s), true
	}
	if g := t.grace.byID(host, entityID); g != nil {
		return *g, true
	}
	return Entry{}, false
}

// LookupPID returns the process that had pid at time at: among the live
// processes with that pid, the one that started last at or before at
// (a zero start counts as "long ago") unless it was last seen more than
// MaxQuiet before at (see Options.MaxQuiet); failing that, a recently ended
// one whose lifetime covers at. A zero at means "now": the newest live one.
func (t *Tracker) LookupPID(host string, pid uint32, at time.Time) (Entry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.lookupPID(host, pid, at, true); ok {
		return *p, true
	}
	return Entry{}, false
}

func (t *Tracker) lookupPID(host string, pid uint32, at time.Time, touch bool) (*Entry, bool) {
	p, _, ok := t.lookupPIDSlot(host, pid, at, touch)
	return p, ok
}

// lookupPIDSlot is lookupPID that also gives the slot of a live process
// (-1 for an ended one).
func (t *Tracker) lookupPIDSlot(host string, pid uint32, at time.Time, touch bool) (*Entry, int32, bool) {
	best := int32(-1)
	var bestStart time.Time
	for s, ok := t.pidHead.get(host, pid); ok && s >= 0; s = t.meta[s].pidNext {
		start := t.meta[s].start // not the entry: only the best one is read
		if !at.IsZero() && start.After(at) {
			continue
		}
		if best < 0 || start.After(bestStart) {
			best, bestStart = s, start
		}
	}
	g := t.grace.byPID(host, pid)
	if g != nil && !at.IsZero() && !g.Start.After(at) && (best < 0 || g.Start.After(bestStart)) {
		// The newest holder of the pid by then has ended; any older live
		// entry with the pid had ended before it started (pid reuse).
		if !at.After(g.End) {
			return g, -1, true
		}
		return nil, -1, false
	}
	if best >= 0 && !at.IsZero() && t.quiet(t.procs.val(best), at) {
		best = -1
	}
	if best >= 0 {
		best = t.sysmonTwin(host, pid, best)
	}
	if best >= 0 {
		if touch {
			t.procs.touch(best)
		}
		return t.procs.val(best), best, true
	}
	if g != nil {
		if at.IsZero() || (!g.Start.After(at) && !at.After(g.End)) {
			return g, -1, true
		}
	}
	return nil, -1, false
}

// twinWindow is how far apart the starts of one process as Sysmon and
// the Security log record it may lie: Sysmon's UtcTime is its own clock,
// 4688's TimeCreated the event log's (the merger's tolerance is on
// TimeCreated alone; a skew of 2 s between the clocks was seen).
const twinWindow = 2 * time.Second

// sysmonTwin returns, for best, the slot of pid whose process is best's
// Sysmon twin when best is known only from the Security log (a synthetic
// id): same image, a start within twinWindow. A host that logs both gives
// one process two entries; the merger makes one document of the two, with
// the Sysmon GUID, so a child found by pid must name that one (4688's
// 100 ns TimeCreated is mostly later than Sysmon's whole milliseconds, so
// the newest start alone picks the id no document keeps).
func (t *Tracker) sysmonTwin(host string, pid uint32, best int32) int32 {
	b := t.procs.val(best)
	if isGUID(b.EntityID) {
		return best
	}
	for s, ok := t.pidHead.get(host, pid); ok && s >= 0; s = t.meta[s].pidNext {
		if s == best {
			continue
		}
		if d := t.meta[s].start.Sub(b.Start); d > twinWindow || d < -twinWindow {
			continue
		}
		if c := t.procs.val(s); isGUID(c.EntityID) && strings.EqualFold(c.Executable, b.Executable) {
			return s
		}
	}
	return best
}

// isGUID reports whether id is a Sysmon ProcessGuid ("{...}") rather than
// a SyntheticEntityID (base64, which has no '{').
func isGUID(id string) bool { return id != "" && id[0] == '{' }

// End removes a process from the live table and returns it with End set to
// at. The entry stays findable by Lookup (and by LookupPID for times before
// at) in the grace ring until Options.Grace later ends push it out. Ending
// a process that already ended returns the grace copy; ok is false only
// when the process is unknown.
func (t *Tracker) End(host, entityID string, at time.Time) (Entry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.peekProc(procKey{host, entityID})
	if !ok {
		if g := t.grace.byID(host, entityID); g != nil {
			return *g, true
		}
		return Entry{}, false
	}
	return t.end(host, s, at), true
}

// EndPID ends the process that had pid at time at (see LookupPID), for
// sources that identify the exiting process by pid only (Security 4689).
func (t *Tracker) EndPID(host string, pid uint32, at time.Time) (Entry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, s, ok := t.lookupPIDSlot(host, pid, at, false)
	if !ok {
		return Entry{}, false
	}
	if s < 0 {
		// Already in the grace ring. (Its End may be zero, an end at an
		// unknown time: it is the slot that says it is not live. The
		// search by id this replaced found no slot for it then, and
		// ended whatever slot 0 held.)
		return *p, true
	}
	return t.end(host, s, at), true
}

func (t *Tracker) end(host string, s int32, at time.Time) Entry {
	e := *t.procs.val(s)
	e.End = at
	t.unlinkPID(s)
	t.procs.remove(s)
	t.endingProc()
	t.grace.push(host, &e)
	return e
}

func (t *Tracker) linkPID(s int32) {
	for int(s) >= len(t.meta) {
		t.meta = append(t.meta, slotMeta{pidNext: -1, pidPrev: -1})
	}
	// Every put is followed by linkPID: the slot holds a new entry.
	e := t.procs.val(s)
	m := &t.meta[s]
	m.reset(e)
	host := t.procs.key(s).host
	m.pidNext, m.pidPrev = -1, -1
	if h, ok := t.pidHead.get(host, e.PID); ok {
		m.pidNext = h
		t.meta[h].pidPrev = s
	}
	t.pidHead.set(host, e.PID, s)
}

// unlinkPID takes slot s out of the chain of its (host, pid), if it is
// in it.
func (t *Tracker) unlinkPID(s int32) {
	m := &t.meta[s]
	next, prev := m.pidNext, m.pidPrev
	if prev >= 0 && t.meta[prev].pidNext == s {
		t.meta[prev].pidNext = next
	} else {
		// s heads its chain, or is in none.
		e := t.procs.val(s)
		host := t.procs.key(s).host
		if h, ok := t.pidHead.get(host, e.PID); !ok || h != s {
			return // not linked
		}
		if next >= 0 {
			t.pidHead.set(host, e.PID, next)
		} else {
			t.pidHead.delete(host, e.PID)
		}
	}
	if next >= 0 {
		t.meta[next].pidPrev = prev
	}
	m.pidNext, m.pidPrev = -1, -1
}

// graceRing keeps the last ended processes, findable by entity id and by
// pid (the most recently ended one per pid).
type graceRing struct {
	slots []graceSlot
	next  int
	ids   hashIndex // by procHash
	hash  func(procKey) uint64
	pids  pidIndex
}

type graceSlot struct {
	host string
	e    Entry
	hash uint64 // of (host, e.EntityID): the slot leaves the index unhashed
	used bool
}

func (g *graceRing) init(n int, hash func(procKey) uint64) {
	if n < 0 {
		n = 0
	}
	g.slots = make([]graceSlot, n)
	// push reads a slot before it writes it, and the collector scans
	// those not used yet.
	prefault.Slice(g.slots)
	g.next = 0
	g.ids = hashIndex{}
	g.hash = hash
	g.pids = newPIDIndex()
}

// push keeps a copy of *e (half a kilobyte: by pointer, copied once).
func (g *graceRing) push(host string, e *Entry) {
	if len(g.slots) == 0 {
		return
	}
	i := int32(g.next)
	old := &g.slots[i]
	if old.used {
		g.ids.remove(old.hash, i)
		if j, ok := g.pids.get(old.host, old.e.PID); ok && j == i {
			g.pids.delete(old.host, old.e.PID)
		}
	}
	k := procKey{host, e.EntityID}
	h := g.hash(k)
	// An ended process ended again (a replayed end) is found here
	// first: its older slot leaves the index, as a map's key would
	// have moved to the new slot.
	if j, ok := g.find(k, h); ok {
		g.ids.remove(h, j)
	}
	old.host, old.e, old.hash, old.used = host, *e, h, true
	g.ids.add(h, i)
	g.pids.set(host, e.PID, i)
	g.next = (g.next + 1) % len(g.slots)
}

func (g *graceRing) byID(host, id string) *Entry {
	k := procKey{host, id}
	if i, ok := g.find(k, g.hash(k)); ok {
		return &g.slots[i].e
	}
	return nil
}

// find is the slot of k, whose hash is h.
func (g *graceRing) find(k procKey, h uint64) (int32, bool) {
	for i := g.ids.head(h); i >= 0; i = g.ids.next(i) {
		if s := &g.slots[i]; s.host == k.host && s.e.EntityID == k.id {
			return i, true
		}
	}
	return -1, false
}

func (g *graceRing) byPID(host string, pid uint32) *Entry {
	if i, ok := g.pids.get(host, pid); ok {
		return &g.slots[i].e
	}
	return nil
}

// each calls fn for the kept entries, oldest first.
func (g *graceRing) each(fn func(host string, e *Entry) error) error {
	n := len(g.slots)
	for k := 0; k < n; k++ {
		s := &g.slots[(g.next+k)%n]
		if s.used {
			if err := fn(s.host, &s.e); err != nil {
				return err
			}
		}
	}
	return nil
}
