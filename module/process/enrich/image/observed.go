package image

import (
	"strings"
	"sync"

	"github.com/procbeat/procbeat/fields/document"
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

// keyOf hashes host and path case-insensitively (FNV-1a over ASCII-folded
// bytes) so that lookups, one per document, allocate nothing; a hit is
// confirmed with strings.EqualFold.
func keyOf(host, path string) uint64 {
	h := uint64(14695981039346656037)
	for _, s := range [2]string{host, path} {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			h = (h ^ uint64(c)) * 1099511628211
		}
		h = (h ^ 0xff) * 1099511628211
	}
	return h
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
