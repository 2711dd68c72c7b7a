package tracker

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

const (
	formatName    = "procbeat-tracker"
	formatVersion = 1
	maxLine       = 16 << 20
)

type header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

type line struct {
	T      string `json:"t"`
	Host   string `json:"h"`
	Entry  *Entry `json:"e,omitempty"`
	Domain string `json:"d,omitempty"`
	User   string `json:"u,omitempty"`
	Logon  uint64 `json:"l,omitempty"`
	SID    string `json:"s,omitempty"`
}

// Save writes the tracker's state to w.
func (t *Tracker) Save(w io.Writer) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(header{Format: formatName, Version: formatVersion}); err != nil {
		return fmt.Errorf("tracker save: %w", err)
	}
	err := t.procs.each(func(s int32) error {
		return enc.Encode(line{T: "p", Host: t.procs.key(s).host, Entry: t.procs.val(s)})
	})
	if err == nil {
		err = t.grace.each(func(host string, e *Entry) error {
			return enc.Encode(line{T: "g", Host: host, Entry: e})
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
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reset()
	err := t.load(r)
	if err != nil {
		t.reset()
	}
	return err
}

func (t *Tracker) reset() {
	t.procs.clear()
	clear(t.pidHead)
	t.pidNext = t.pidNext[:0]
	t.grace.init(len(t.grace.slots))
	t.sids.byName.clear()
}

func (t *Tracker) load(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return fmt.Errorf("tracker load: %w", err)
		}
		return fmt.Errorf("tracker load: empty input: %w", ErrFormat)
	}
	var h header
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Format != formatName || h.Version != formatVersion {
		return fmt.Errorf("tracker load: header %.80q: %w", sc.Text(), ErrFormat)
	}
	n := 1
	for sc.Scan() {
		n++
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("tracker load: line %d: %w", n, err)
		}
		switch l.T {
		case "p", "g":
			if l.Entry == nil || l.Entry.EntityID == "" {
				return fmt.Errorf("tracker load: line %d: process without entity_id", n)
			}
			if l.T == "g" {
				t.grace.push(l.Host, *l.Entry)
				continue
			}
			k := procKey{l.Host, l.Entry.EntityID}
			if s, ok := t.procs.peek(k); ok {
				t.unlinkPID(s)
				t.procs.remove(s)
			}
			t.linkPID(t.procs.put(k, *l.Entry))
		case "n":
			// Older states learned SIDs by name alone (logon 0): they
			// never match, as SIDFor needs the session too.
			if l.Logon != 0 {
				t.sids.byName.put(nameKey{l.Host, l.Domain, l.User, l.Logon}, l.SID)
			}
		case "l":
			// An older state's SID by logon id alone, which no longer
			// identifies an account (see sidTables).
		default:
			return fmt.Errorf("tracker load: line %d: unknown item type %q", n, l.T)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("tracker load: line %d: %w", n+1, err)
	}
	return nil
}
