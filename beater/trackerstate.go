package beater

import (
	"bytes"
	"sync"

	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

// openTrackerState attaches tr to its journal in dataDir. A process table
// kept the old way, inside the registry, is moved into the journal's
// snapshot once, and dropped from the registry.
func openTrackerState(dataDir string, tr *tracker.Tracker, reg *registry.Registry, log monitoring.Logger) (*tracker.Journal, error) {
	j, err := tracker.OpenJournal(dataDir, tr, log.Warnf)
	if err != nil {
		return nil, err
	}
	if old := reg.Extra(); len(old) > 0 {
		if j.Empty() {
			if err := tr.Load(bytes.NewReader(old)); err != nil {
				log.Errorf("process table in %s unreadable, starting empty: %v", reg.Path(), err)
			} else if err := j.Snapshot(); err != nil {
				j.Close()
				return nil, err
			}
		}
		reg.SetExtra(nil)
	}
	return j, nil
}

// journaledCheckpoints writes the tracker's journal before the registry,
// so that the process table on disk always holds at least what the
// checkpoints have passed: a resumed run then finds the parents of every
// record after its checkpoint (records replayed after a crash update the
// table again, harmlessly). Acknowledgements wait while a checkpoint is
// written, so that none moves a position past what the journal holds.
type journaledCheckpoints struct {
	reg *registry.Registry
	j   *tracker.Journal
	mu  sync.RWMutex
}

func (c *journaledCheckpoints) Begin(p pipeline.Position) pipeline.Ticket { return c.reg.Begin(p) }

// Link passes the registry's linking of a merged document's two records
// through (pipeline.Linker): without it, a restart could make a document
// of one twin alone.
func (c *journaledCheckpoints) Link(a, b pipeline.Ticket) { c.reg.Link(a, b) }

// The pipeline finds Link by asserting its checkpoints to pipeline.Linker.
var _ pipeline.Linker = (*journaledCheckpoints)(nil)

func (c *journaledCheckpoints) Done(t []pipeline.Ticket) {
	c.mu.RLock()
	c.reg.Done(t)
	c.mu.RUnlock()
}

func (c *journaledCheckpoints) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.j.Flush(); err != nil {
		return err
	}
	return c.reg.Flush()
}
