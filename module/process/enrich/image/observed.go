package image

import (
	"encoding/binary"
	"strings"
	"sync"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/internal/lower"
	"github.com/procbeat/procbeat/module/process/mapping"
)

// observed remembers the signatures Sysmon reported for loaded images
// (event 7), per host and path. Windows verified those on the host itself,
// with its own roots and catalogs, so they are preferred to what procbeat
// can verify offline, and need no file.
type observed struct {
	mu  sync.Mutex
	m   map[uint64]observedLoad
	max int
}

type observedLoad struct {
	host string
	mapping.ImageLoad
}

// keyOf hashes host and path case-insensitively (ASCII folding, as the
// lookups compare with strings.EqualFold) so that lookups, two per
// document, allocate nothing; a hit is confirmed with strings.EqualFold.
// It works eight bytes at a time: a byte-wise FNV-1a over a path was a
// tenth of a microsecond per lookup, a visible share of a document's cost.
func keyOf(host, path string) uint64 {
	h := foldHash(uint64(len(host))*0x9e3779b97f4a7c15, host)
	return foldHash(h^uint64(len(path)), path)
}

// foldHash continues h over s with its ASCII upper-case letters lowered.
func foldHash(h uint64, s string) uint64 {
	for len(s) >= 8 {
		h = mixWord(h, lower.Word(binary.LittleEndian.Uint64([]byte(s[:8]))))
		s = s[8:]
	}
	if len(s) > 0 {
		var b [8]byte
		copy(b[:], s)
		h = mixWord(h, lower.Word(binary.LittleEndian.Uint64(b[:])))
	}
	return h
}

// mixWord folds one word into h (multiply-xorshift: every input bit
// reaches the high bits, which the map's own hash then spreads).
func mixWord(h, w uint64) uint64 {
	h = (h ^ w) * 0xff51afd7ed558ccd
	return h ^ h>>32
}

func (o *observed) put(host string, l mapping.ImageLoad) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = make(map[uint64]observedLoad)
	}
	if len(o.m) >= o.max {
		clear(o.m) // a bound, not a policy: facts come back with the next loads
	}
	o.m[keyOf(host, l.Image)] = observedLoad{host, l}
}

func (o *observed) get(host, path string) (mapping.ImageLoad, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.m) == 0 {
		return mapping.ImageLoad{}, false
	}
	l, ok := o.m[keyOf(host, path)]
	if !ok || !strings.EqualFold(l.host, host) || !strings.EqualFold(l.Image, path) {
		return mapping.ImageLoad{}, false
	}
	return l.ImageLoad, true
}

// ImageLoaded remembers what a Sysmon image-load event says.
func (e *Enricher) ImageLoaded(host string, l mapping.ImageLoad) {
	e.seen.put(host, l)
}

// fillObserved sets a code_signature from Sysmon's report, if any.
func (e *Enricher) fillObserved(host, exe string, exists, trusted *document.Bool, subject, status *string) bool {
	l, ok := e.seen.get(host, exe)
	if !ok {
		return false
	}
	*exists = document.BoolOf(l.Signed)
	if l.Signed {
		*trusted = document.BoolOf(l.Trusted)
		*subject, *status = l.SubjectName, l.Status
	}
	return true
}
