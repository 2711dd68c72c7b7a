package tracker

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/procbeat/procbeat/module/process/argv"
	"github.com/procbeat/procbeat/module/process/winfmt"
)

// The saved state is JSON lines: a header line naming the format and its
// version, then one line per item, least recently used first so that Load
// restores recency by replaying them in order. It is written only at
// checkpoints and shutdown, never per event, so plain encoding/json does.
//
//	{"format":"procbeat-tracker","version":1}
//	{"t":"p","h":"host","e":{...Entry...}}   live process
//	{"t":"g","h":"host","e":{...Entry...}}   ended process in the grace ring
//	{"t":"n","h":"host","d":"CORP","u":"BOB","l":201209,"s":"S-1-5-..."}  SID by name and logon id
//	{"t":"l",...}  SID by logon id alone: older states only, dropped on load
//	{"t":"x","h":"host","i":"entity id"}  process ended (journal only: its
//	                                      entry left the grace ring unsaved)
//
// The header of a snapshot written by Journal also names the generation of
// the journal that follows it ("journal"; see journal.go).

const (
	formatName    = "procbeat-tracker"
	formatVersion = 1
	maxLine       = 16 << 20
)

type header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Journal uint64 `json:"journal,omitempty"`
}

type line struct {
	T      string `json:"t"`
	Host   string `json:"h"`
	Entry  *Entry `json:"e,omitempty"`
	Domain string `json:"d,omitempty"`
	User   string `json:"u,omitempty"`
	Logon  uint64 `json:"l,omitempty"`
	SID    string `json:"s,omitempty"`
	ID     string `json:"i,omitempty"`
}

// Save writes the tracker's state to w.
func (t *Tracker) Save(w io.Writer) error { return t.save(w, 0) }

// save writes the state with journal, the generation of the journal that
// follows it, in the header.
func (t *Tracker) save(w io.Writer, journal uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(header{Format: formatName, Version: formatVersion, Journal: journal}); err != nil {
		return fmt.Errorf("tracker save: %w", err)
	}
	err := t.procs.each(func(s int32) error {
		return enc.Encode(line{T: "p", Host: t.procs.key(s).host, Entry: persisted(t.procs.val(s))})
	})
	if err == nil {
		err = t.grace.each(func(host string, e *Entry) error {
			return enc.Encode(line{T: "g", Host: host, Entry: persisted(e)})
		})
	}
	if err == nil {
		err = t.sids.byName.each(func(s int32) error {
			k := t.sids.byName.key(s)
			return enc.Encode(line{T: "n", Host: k.host, Domain: k.domain, User: k.name, Logon: k.logon, SID: *t.sids.byName.val(s)})
		})
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("tracker save: %w", err)
	}
	return nil
}

// ErrFormat reports saved state this version cannot read.
var ErrFormat = errors.New("not a procbeat tracker state of a known version")

// Load replaces the tracker's state with the one read from r. The caps of
// this tracker apply: a larger saved state keeps its most recent items. On
// error the tracker is left empty.
func (t *Tracker) Load(r io.Reader) error {
	_, err := t.loadFrom(r)
	return err
}

// loadFrom is Load, also returning the journal generation the header names.
func (t *Tracker) loadFrom(r io.Reader) (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reset()
	gen, err := t.load(r)
	if err != nil {
		t.reset()
	}
	if t.changes != nil {
		t.changes.reset()
	}
	return gen, err
}

func (t *Tracker) reset() {
	t.procs.clear()
	t.pidHead.clear()
	clear(t.meta)
	t.meta = t.meta[:0]
	t.grace.init(len(t.grace.slots), t.procHash)
	t.sids.byName.clear()
}

func (t *Tracker) load(r io.Reader) (uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return 0, fmt.Errorf("tracker load: %w", err)
		}
		return 0, fmt.Errorf("tracker load: empty input: %w", ErrFormat)
	}
	var h header
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Format != formatName || h.Version != formatVersion {
		return 0, fmt.Errorf("tracker load: header %.80q: %w", sc.Text(), ErrFormat)
	}
	n := 1
	for sc.Scan() {
		n++
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return 0, fmt.Errorf("tracker load: line %d: %w", n, err)
		}
		if err := t.apply(&l, n); err != nil {
			return 0, err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("tracker load: line %d: %w", n+1, err)
	}
	return h.Journal, nil
}

// apply adds one saved item (a snapshot's or a journal's line n) to the
// state.
func (t *Tracker) apply(l *line, n int) error {
	switch l.T {
	case "p", "g":
		if l.Entry == nil || l.Entry.EntityID == "" {
			return fmt.Errorf("tracker load: line %d: process without entity_id", n)
		}
		t.shareAncestry(l.Host, l.Entry)
		k := procKey{l.Host, l.Entry.EntityID}
		if s, ok := t.procs.peek(k); ok {
			t.unlinkPID(s)
			t.procs.remove(s)
		}
		if l.T == "g" {
			t.grace.push(l.Host, l.Entry)
			return nil
		}
		t.linkPID(t.procs.put(k, *l.Entry))
	case "x":
		if s, ok := t.procs.peek(procKey{l.Host, l.ID}); ok {
			t.unlinkPID(s)
			t.procs.remove(s)
		}
	case "n":
		// Older states learned SIDs by name alone (logon 0): they never
		// match, as SIDFor needs the session too.
		if l.Logon != 0 {
			t.sids.byName.put(nameKey{l.Host, l.Domain, l.User, l.Logon}, l.SID)
		}
	case "l":
		// An older state's SID by logon id alone, which no longer
		// identifies an account (see sidTables).
	default:
		return fmt.Errorf("tracker load: line %d: unknown item type %q", n, l.T)
	}
	return nil
}

// shareAncestry points e's ancestry at the entity id strings of the
// tracked ancestors, as Start does: decoded separately, each process would
// hold its own copy of up to MaxAncestry ids.
func (t *Tracker) shareAncestry(host string, e *Entry) {
	for i, id := range e.Ancestry {
		if s, ok := t.procs.peek(procKey{host, id}); ok {
			e.Ancestry[i] = t.procs.val(s).EntityID
		} else if g := t.grace.byID(host, id); g != nil {
			e.Ancestry[i] = g.EntityID
		}
	}
	if e.ParentEntityID != "" && len(e.Ancestry) > 0 && e.Ancestry[0] == e.ParentEntityID {
		e.ParentEntityID = e.Ancestry[0]
	}
}

// persisted is e as state files have always held it, hashes lower-cased
// and arguments split, whatever callers keep in memory (hashes as logged,
// the argument count alone): a state file saved by this version reads the
// same in an earlier one.
func persisted(e *Entry) *Entry {
	h := e.Hashes
	split := len(e.Args) == 0 && e.ArgsCount > 0 && e.CommandLine != ""
	if !split && !winfmt.HashNeedsLower(h.MD5) && !winfmt.HashNeedsLower(h.SHA1) && !winfmt.HashNeedsLower(h.SHA256) && !winfmt.HashNeedsLower(h.IMPHASH) {
		return e
	}
	c := *e
	c.Hashes = winfmt.Hashes{MD5: winfmt.LowerHash(h.MD5), SHA1: winfmt.LowerHash(h.SHA1), SHA256: winfmt.LowerHash(h.SHA256), IMPHASH: winfmt.LowerHash(h.IMPHASH)}
	if split {
		c.Args = argv.Split(c.CommandLine)
	}
	return &c
}
