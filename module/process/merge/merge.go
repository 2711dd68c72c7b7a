// Package merge makes one document of the two records that describe one
// process event when a host logs both Sysmon and Security process auditing:
// Sysmon 1 with Security 4688 (start) and Sysmon 5 with Security 4689 (end).
//
// Two records are twins when they come from the two providers and name the
// same host, pid and image (case-insensitively; an end whose image is
// unknown matches on host and pid), of the same kind, logged within
// Options.Tolerance of each other on System/TimeCreated (each source's own
// time fields may be skewed differently).
//
// A start or end record of a host for which both providers were seen or
// declared (Declare) waits for its twin in a bounded hold: it is emitted
// alone once the other provider's stream of the same host has moved more
// than Options.Window past it in event time (the twin would have come by
// then), once more than Options.MaxHeld records are held (the oldest goes),
// on Expire for records held longer than Window of wall time (live
// collection, where a quiet source must not hold documents back), and on
// Flush (the end of a replay). Event time is measured per host and per
// provider, so a replay that reads a Sysmon log and then the Security log
// of the same machine merges as one reading both at once would, as long as
// the first log's start and end records fit in MaxHeld.
//
// The package is platform-neutral and knows nothing of outputs: each record
// carries an acknowledgement handle (T) that comes out with the document
// it went into, so the caller can acknowledge both records of a merged
// document, and never one that is still held.
package merge

import (
	"errors"
	"slices"
	"time"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/internal/prefault"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/winevent"
)

// Defaults for Options.
const (
	DefaultTolerance = time.Second
	DefaultWindow    = 5 * time.Second
	DefaultMaxHeld   = 4096
)

// Options configure a Merger. Zero fields take the defaults.
type Options struct {
	// Tolerance is how far apart the twins' System/TimeCreated may be.
	Tolerance time.Duration
	// Window is how long a record waits for its twin, in the event time
	// of the other provider's stream and in wall time (Expire). It is at
	// least Tolerance.
	Window time.Duration
	// MaxHeld bounds the records held at once, over all hosts.
	MaxHeld int
	// Link keeps both documents of a pair (procbeat.merge_sources: false)
	// and holds nothing back: every record is emitted as it comes, and a
	// Security record whose Sysmon twin came first (the twin is known) is
	// pointed at the Sysmon process identity (Link). The Sysmon records
	// are remembered, without their handles, within the same bounds.
	Link bool
	// Now is the wall clock for Expire; tests fix it.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Tolerance <= 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	o.Window = max(o.Window, o.Tolerance)
	if o.MaxHeld <= 0 {
		o.MaxHeld = DefaultMaxHeld
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Item is one mapped record offered to the Merger.
type Item[T any] struct {
	Kind mapping.Kind
	// Doc is the mapped document; the Merger copies what it holds, so the
	// caller may reuse it once Add returns.
	Doc *document.Document
	// Logged is the record's System/TimeCreated.
	Logged time.Time
	// Image is the image the record itself names (Mapper.RecordImage),
	// empty to use the document's process.executable. An end document's
	// executable is what the process table recorded at its start, a guess
	// for 4689, which names its process by pid.
	Image string
	// Ack is the caller's handle of the record (its checkpoint ticket).
	Ack T
}

func (it *Item[T]) image() string {
	if it.Image != "" {
		return it.Image
	}
	return it.Doc.Process.Executable
}

// Emit receives a document to publish and the handles of every record it
// stands for (one, or two for a merged document). The document and the
// slice are valid only during the call. An error stops the Merger's call
// and is returned by it; the records not yet emitted stay held.
type Emit[T any] func(kind mapping.Kind, doc *document.Document, acks []T) error

type provider uint8

const (
	sysmon provider = iota
	security
	other
)

func providerOf(p string) provider {
	switch p {
	case winevent.ProviderSysmon:
		return sysmon
	case winevent.ProviderSecurity:
		return security
	}
	return other
}

// key is a record's host, kind, provider and pid, as two words without
// padding: hashed a word at a time, not the host's name for every record.
// The provider keeps the records of one provider in chains of their own:
// a twin is looked for among the other provider's only, and a reused pid
// makes long chains of one provider's records.
type key struct {
	hostKind uint64 // host.id<<16 | kind<<8 | provider
	pid      int64
}

func keyOf(h *host, kind mapping.Kind, prov provider, pid int64) key {
	return key{hostKind: uint64(h.id)<<16 | uint64(kind)<<8 | uint64(prov), pid: pid}
}

func (k key) kind() mapping.Kind { return mapping.Kind(k.hostKind >> 8 & 0xff) }

// twins is the key of the records of the other provider k's record may
// pair with.
func (k key) twins() key { return key{hostKind: k.hostKind ^ 1, pid: k.pid} }

// host is what the Merger knows of one host: its number in keys and its
// streams, by provider (sysmon, security).
type host struct {
	id int32
	st [2]*stream
}

// stream is one provider's records of one host: its event-time watermark
// and its held records in arrival order.
type stream struct {
	wm    time.Time
	q     queue
	other *stream // the other provider's stream of the host, once seen
}

type ref struct {
	slot int32
	seq  uint64
}

// queue is a FIFO of refs to held records, in arrival order. The ref of a
// record emitted meanwhile stays until it reaches the front (front) or
// the queue is compacted (push).
type queue struct {
	r    []ref
	head int // r[:head] are gone
}

// smallQueue is the capacity a stream's emptied queue keeps: a host
// whose records pair or go at once does not allocate for each, and one
// that held many at once gives their memory back.
const smallQueue = 64

type slot struct {
	kind    mapping.Kind
	prov    provider
	logged  time.Time
	arrived time.Time
	seq     uint64 // 0: free
	next    int32  // chain of one key, -1 at its end
	// prev links the chain backwards (-1 at its head), so that removing a
	// record costs the same however many records share its key.
	prev  int32
	key   key
	image string
	// cmdline and ppid are the held document's, for compatible: the
	// document itself is packed (packs).
	cmdline string
	ppid    document.Long
	st      *stream
	// remembered: a Sysmon record already emitted, kept to link its
	// Security twin (Options.Link); it has no handle and leaves silently.
	remembered bool
}

// Merger pairs twins. It is not safe for concurrent use.
type Merger[T any] struct {
	opts  Options
	slots []slot
	acks  []T // parallel to slots: the handle of each held record
	// packs is parallel to slots: the document of each held record.
	packs  []packed
	layout layout
	free   []int32
	byKey  map[key]int32
	hosts  map[string]*host
	// last is the host of the last record (lastName): records come in
	// runs of one host.
	last     *host
	lastName string
	// streams are every host's, in the order they were seen.
	streams []*stream
	held    int
	seq     uint64
	// order holds every held record, in arrival order (oldest).
	order   queue
	scratch document.Document
	// unpacked is a held document unpacked, for the call that emits it.
	unpacked document.Document
	out      [2]T
	// holdAll turns passed's shortcut off: every record without a twin
	// is held (the reference of FuzzPassedShortcut).
	holdAll bool
}

// New returns a Merger.
func New[T any](opts Options) *Merger[T] {
	return &Merger[T]{opts: opts.withDefaults(), byKey: map[key]int32{}, hosts: map[string]*host{},
		layout: documentLayout()}
}

// Len is the number of records held (remembered ones included).
func (m *Merger[T]) Len() int { return m.held }

// Add offers one record. Records that cannot have a twin (other kinds and
// providers) are emitted at once; a record whose twin is held is emitted
// merged with it; any other is held. Add then emits what the hold's bounds
// release.
func (m *Merger[T]) Add(it Item[T], emit Emit[T]) error {
	prov := providerOf(it.Doc.Event.Provider)
	if prov == other || (it.Kind != mapping.Start && it.Kind != mapping.End) {
		m.out[0] = it.Ack
		return emit(it.Kind, it.Doc, m.out[:1])
	}
	h := m.host(it.Doc.Host.Name)
	k := keyOf(h, it.Kind, prov, it.Doc.Process.PID.Value)
	st := m.stream(h, prov)
	if it.Logged.After(st.wm) {
		st.wm = it.Logged
	}
	if st.other == nil {
		// The other provider was neither seen nor declared for the host:
		// a host that logs one of them only has nothing held back.
		m.out[0] = it.Ack
		return emit(it.Kind, it.Doc, m.out[:1])
	}
	if m.opts.Link {
		return m.link(k, prov, st, it, emit)
	}
	if s := m.twin(k, prov, it.Logged, it.image(), &it.Doc.Process); s >= 0 {
		if err := m.pair(s, it, prov, emit); err != nil {
			return err
		}
	} else if m.passed(st, it.Logged) {
		// Held, it would be the first record release lets go, at once:
		// it goes out as it is, not packed and unpacked. Half the records
		// a replay holds are so (event time rewinds where the bench file's
		// chunks, or a log's, change).
		m.out[0] = it.Ack
		if err := emit(it.Kind, it.Doc, m.out[:1]); err != nil {
			m.hold(k, prov, st, it) // as when emitAlone fails: it stays
			return err
		}
	} else {
		m.hold(k, prov, st, it)
	}
	return m.release(st, emit)
}

// passed reports whether a record of st logged at logged, held now,
// would be let go at once by release: st holds nothing before it (a
// record st holds did not pass, or release would have let it go when the
// other stream last moved) and the other stream has moved Window past it.
func (m *Merger[T]) passed(st *stream, logged time.Time) bool {
	return !m.holdAll && st.other != nil && m.frontOf(st) < 0 && logged.Add(m.opts.Window).Before(st.other.wm)
}

// link emits it at once: a Sysmon record is remembered for a Security
// twin to come, a Security record whose Sysmon twin is remembered goes out
// on the Sysmon identity.
func (m *Merger[T]) link(k key, prov provider, st *stream, it Item[T], emit Emit[T]) error {
	m.out[0] = it.Ack
	if prov == sysmon {
		if err := emit(it.Kind, it.Doc, m.out[:1]); err != nil {
			return err
		}
		s := m.hold(k, prov, st, it)
		m.slots[s].remembered = true
		var zero T
		m.acks[s] = zero
		return m.release(st, emit)
	}
	if s := m.twin(k, prov, it.Logged, it.image(), &it.Doc.Process); s >= 0 {
		m.scratch = *it.Doc
		m.layout.unpack(&m.unpacked, &m.packs[s])
		Link(&m.unpacked, &m.scratch)
		m.remove(s)
		if err := emit(it.Kind, &m.scratch, m.out[:1]); err != nil {
			return err
		}
	} else if err := emit(it.Kind, it.Doc, m.out[:1]); err != nil {
		return err
	}
	return m.release(st, emit)
}

// Declare says that host logs provider (winevent.ProviderSysmon or
// ProviderSecurity), before any of its records arrive: records of the
// other provider of the host are held for their twins from the start. A
// replay declares what its files hold, so that a Sysmon log read before
// the Security log of the same machine waits for it. Without a
// declaration a provider counts from its host's first record on.
func (m *Merger[T]) Declare(host, provider string) {
	if p := providerOf(provider); p != other {
		m.stream(m.host(host), p)
	}
}

// host returns what is known of the host named name, new if nothing.
func (m *Merger[T]) host(name string) *host {
	if m.last != nil && name == m.lastName {
		return m.last
	}
	h := m.hosts[name]
	if h == nil {
		h = &host{id: int32(len(m.hosts))}
		m.hosts[name] = h
	}
	m.last, m.lastName = h, name
	return h
}

// stream returns h's stream of prov, new if none.
func (m *Merger[T]) stream(h *host, prov provider) *stream {
	if st := h.st[prov]; st != nil {
		return st
	}
	st := &stream{}
	h.st[prov] = st
	m.streams = append(m.streams, st)
	if o := h.st[1-prov]; o != nil {
		st.other, o.other = o, st
	}
	return st
}

// twin finds the held record of the other provider that k's record at
// logged describing p pairs with: the nearest in time within Tolerance,
// the earliest held on a tie. -1 when there is none. Besides the image,
// the command line and the parent pid of starts must agree where both
// records carry them: a pid reused within Tolerance by the same image is
// told apart by them, and otherwise by each channel logging in time order.
func (m *Merger[T]) twin(k key, prov provider, logged time.Time, image string, p *document.Process) int32 {
	best, bestD := int32(-1), time.Duration(0)
	for s := m.headOf(k.twins()); s >= 0; s = m.slots[s].next {
		c := &m.slots[s]
		if c.prov == prov || !sameImage(c.image, image) || !compatible(k.kind(), c.cmdline, c.ppid, p) {
			continue
		}
		d := c.logged.Sub(logged)
		if d < 0 {
			d = -d
		}
		if d > m.opts.Tolerance {
			continue
		}
		if best < 0 || d < bestD || (d == bestD && c.seq < m.slots[best].seq) {
			best, bestD = s, d
		}
	}
	return best
}

func (m *Merger[T]) headOf(k key) int32 {
	if s, ok := m.byKey[k]; ok {
		return s
	}
	return -1
}

// compatible reports whether two records may describe one process. The
// command line and parent pid are compared for starts only: an end event
// carries neither, its document has them from the process table, whose
// guess (4689 names the process by pid) must not keep twins apart.
func compatible(kind mapping.Kind, aCmd string, aPPID document.Long, b *document.Process) bool {
	if kind != mapping.Start {
		return true
	}
	if aCmd != "" && b.CommandLine != "" && aCmd != b.CommandLine {
		return false
	}
	return !aPPID.Valid || !b.Parent.PID.Valid || aPPID.Value == b.Parent.PID.Value
}

// sameImage compares two images as Windows does (ASCII case folding is
// enough for the paths of one process as two providers log them); an
// empty image (an end whose process was unknown) matches any.
func sameImage(a, b string) bool {
	if a == "" || b == "" {
		return true
	}
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// pair emits held slot s with its twin it.
func (m *Merger[T]) pair(s int32, it Item[T], prov provider, emit Emit[T]) error {
	m.layout.unpack(&m.unpacked, &m.packs[s])
	sys, sec := &m.unpacked, it.Doc
	if prov == sysmon {
		sys, sec = it.Doc, &m.unpacked
	}
	m.scratch = *sys
	Fuse(it.Kind, &m.scratch, sec)
	m.out[0], m.out[1] = m.acks[s], it.Ack
	if err := emit(it.Kind, &m.scratch, m.out[:2]); err != nil {
		return err
	}
	m.remove(s)
	return nil
}

// hold keeps it in a free slot, which it returns.
func (m *Merger[T]) hold(k key, prov provider, st *stream, it Item[T]) int32 {
	var s int32
	if n := len(m.free); n > 0 {
		s, m.free = m.free[n-1], m.free[:n-1]
	} else {
		s = int32(len(m.slots))
		if int(s) == min(cap(m.slots), cap(m.acks), cap(m.packs)) {
			m.grow()
		}
		m.slots = m.slots[:s+1]
		m.acks = m.acks[:s+1]
		m.packs = m.packs[:s+1]
	}
	m.seq++
	head := m.headOf(k)
	m.slots[s] = slot{kind: it.Kind, prov: prov, logged: it.Logged, arrived: m.opts.Now(),
		seq: m.seq, next: head, prev: -1, key: k, image: it.image(),
		cmdline: it.Doc.Process.CommandLine, ppid: it.Doc.Process.Parent.PID, st: st}
	m.layout.pack(&m.packs[s], it.Doc)
	if head >= 0 {
		m.slots[head].prev = s
	}
	m.acks[s] = it.Ack
	m.byKey[k] = s
	m.push(&st.q, ref{slot: s, seq: m.seq})
	m.push(&m.order, ref{slot: s, seq: m.seq})
	m.held++
	return s
}

// push appends x to q. The refs of emitted records are dropped first when
// there are many (compact), so that a record held at its front cannot
// make the queue grow without bound, and the live ones slide down to the
// start rather than the queue grow when it is half gone.
func (m *Merger[T]) push(q *queue, x ref) {
	if len(q.r)-q.head >= 2*m.opts.MaxHeld+16 {
		m.compact(q)
	}
	if len(q.r) == cap(q.r) && q.head > 0 && q.head >= len(q.r)/2 {
		n := copy(q.r, q.r[q.head:])
		q.r, q.head = q.r[:n], 0
	}
	q.r = append(q.r, x)
}

// grow makes room for more slots: twice as many, but never more than the
// hold can use (MaxHeld, and one arriving), which append's growth would
// overshoot by a quarter once the hold is full.
func (m *Merger[T]) grow() {
	n := min(max(2*len(m.slots), 64), m.opts.MaxHeld+1)
	if n <= len(m.slots) {
		n = len(m.slots) + 1 // Link's remembered records
	}
	m.slots = slices.Grow(m.slots, n-len(m.slots))
	m.acks = slices.Grow(m.acks, n-len(m.acks))
	m.packs = slices.Grow(m.packs, n-len(m.packs))
	// The collector scans the capacity not used yet.
	prefault.Slice(m.slots[len(m.slots):])
	prefault.Slice(m.packs[len(m.packs):])
}

// compact keeps the refs of q's held records only.
func (m *Merger[T]) compact(q *queue) {
	live := q.r[:0]
	for _, r := range q.r[q.head:] {
		if m.slots[r.slot].seq == r.seq {
			live = append(live, r)
		}
	}
	q.r, q.head = live, 0
}

// remove frees slot s: out of its key's chain; its stream's queue skips it
// (its seq no longer matches).
func (m *Merger[T]) remove(s int32) {
	h := &m.slots[s]
	if h.seq == 0 {
		return
	}
	switch {
	case h.prev >= 0:
		m.slots[h.prev].next = h.next
	case h.next < 0:
		delete(m.byKey, h.key)
	default:
		m.byKey[h.key] = h.next
	}
	if h.next >= 0 {
		m.slots[h.next].prev = h.prev
	}
	*h = slot{}
	m.packs[s].release()
	var zero T
	m.acks[s] = zero
	m.free = append(m.free, s)
	m.held--
}

// front returns the oldest live record of q, dropping the refs of
// records already emitted; -1 when none.
func (m *Merger[T]) front(q *queue) int32 {
	for ; q.head < len(q.r); q.head++ {
		if r := q.r[q.head]; m.slots[r.slot].seq == r.seq {
			return r.slot
		}
	}
	q.r, q.head = q.r[:0], 0
	return -1
}

// frontOf is front of st's queue; an emptied large queue lets its
// backing array go.
func (m *Merger[T]) frontOf(st *stream) int32 {
	s := m.front(&st.q)
	if s < 0 && cap(st.q.r) > smallQueue {
		st.q.r = nil
	}
	return s
}

// emitAlone emits held slot s without a twin.
func (m *Merger[T]) emitAlone(s int32, emit Emit[T]) error {
	h := &m.slots[s]
	if h.remembered {
		m.remove(s)
		return nil
	}
	m.out[0] = m.acks[s]
	m.layout.unpack(&m.unpacked, &m.packs[s])
	if err := emit(h.kind, &m.unpacked, m.out[:1]); err != nil {
		return err
	}
	m.remove(s)
	return nil
}

// release emits what the bounds let go after a record of st arrived: the
// held records of either provider of st's host that the other provider's
// stream has passed by Window, then the oldest while too many are held.
func (m *Merger[T]) release(st *stream, emit Emit[T]) error {
	for _, a := range [2]*stream{st, st.other} {
		if a == nil || a.other == nil {
			continue
		}
		for s := m.frontOf(a); s >= 0 && m.slots[s].logged.Add(m.opts.Window).Before(a.other.wm); s = m.frontOf(a) {
			if err := m.emitAlone(s, emit); err != nil {
				return err
			}
		}
	}
	for m.held > m.opts.MaxHeld {
		if err := m.emitAlone(m.oldest(), emit); err != nil {
			return err
		}
	}
	return nil
}

// oldest is the held record that arrived first; -1 when none.
func (m *Merger[T]) oldest() int32 { return m.front(&m.order) }

// Expire emits, alone, every record held for longer than Window of wall
// time, so that live collection adds at most Window of latency when a
// source is quiet or does not log a process at all.
func (m *Merger[T]) Expire(emit Emit[T]) error {
	limit := m.opts.Now().Add(-m.opts.Window)
	for _, st := range m.streams {
		for s := m.frontOf(st); s >= 0 && m.slots[s].arrived.Before(limit); s = m.frontOf(st) {
			if err := m.emitAlone(s, emit); err != nil {
				return err
			}
		}
	}
	return nil
}

// Flush emits every held record alone, in arrival order (the end of a
// replay: no twin can come any more).
func (m *Merger[T]) Flush(emit Emit[T]) error {
	for m.held > 0 {
		s := m.oldest()
		if s < 0 {
			return errors.New("merge: held records lost from their queues")
		}
		if err := m.emitAlone(s, emit); err != nil {
			return err
		}
	}
	return nil
}
