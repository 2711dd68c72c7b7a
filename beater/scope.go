package beater

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/procbeat/procbeat/module/process/source"
)

// inputScope is what an input gives the sources it reads: the data stream
// namespace of their documents (config.Input.Namespace), and, for a
// managed input, the record of the sources it opened, so that stopping it
// waits for their events alone (Managed.StopInput). A nil scope is
// procbeat.namespace and records nothing.
type inputScope struct {
	ns string

	mu     sync.Mutex
	record bool
	opened map[string]bool // source ids
}

// sources returns the ids of the sources opened so far.
func (sc *inputScope) sources() []string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return slices.Collect(maps.Keys(sc.opened))
}

// scopedSource is a source read for an input with a scope: the runner
// reads its namespace once, when it opens, so it costs nothing per
// document.
type scopedSource struct {
	source.Source
	sc *inputScope
}

// Namespace is the documents' data_stream.namespace ("": the mapper's).
func (s scopedSource) Namespace() string { return s.sc.ns }

// String names the source as the source itself does.
func (s scopedSource) String() string { return sourceName(s.Source) }

func (s scopedSource) Open(ctx context.Context, pos source.Position) (source.Reader, error) {
	if s.sc.record {
		s.sc.mu.Lock()
		if s.sc.opened == nil {
			s.sc.opened = map[string]bool{}
		}
		s.sc.opened[s.ID()] = true
		s.sc.mu.Unlock()
	}
	return s.Source.Open(ctx, pos)
}

// inScope reads src for the input of scope sc.
func inScope(src source.Source, sc *inputScope) source.Source {
	if sc == nil {
		return src
	}
	return scopedSource{Source: src, sc: sc}
}

// namespaceOf is the namespace src's documents go to ("": the mapper's).
func namespaceOf(src source.Source) string {
	if n, ok := src.(interface{ Namespace() string }); ok {
		return n.Namespace()
	}
	return ""
}
