package beater

import (
	"context"
	"errors"
	"sync"

	"github.com/procbeat/procbeat/pipeline"
)

// switchOutput is a pipeline.Output whose destination can be replaced while
// the pipeline runs. A batch being delivered when the output is replaced is
// abandoned by the old output and delivered again, whole, by the new one:
// its events stay unacknowledged until then, and every action is a create
// with a deterministic _id, so the part the old output had stored comes
// back as already there (409) rather than twice.
type switchOutput struct {
	lim pipeline.Limits

	mu     sync.Mutex
	cur    *outputSlot
	closed bool
}

// outputSlot is one destination and the deliveries using it.
type outputSlot struct {
	out    pipeline.Output
	ctx    context.Context // ends when the slot is replaced
	cancel context.CancelFunc
	users  sync.WaitGroup
}

func newOutputSlot(out pipeline.Output) *outputSlot {
	ctx, cancel := context.WithCancel(context.Background())
	return &outputSlot{out: out, ctx: ctx, cancel: cancel}
}

// newSwitchOutput starts with out; the pipeline batches by out's limits for
// its whole life.
func newSwitchOutput(out pipeline.Output) *switchOutput {
	return &switchOutput{lim: out.Limits(), cur: newOutputSlot(out)}
}

func (s *switchOutput) Limits() pipeline.Limits { return s.lim }

func (s *switchOutput) acquire() (*outputSlot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errOutputClosed
	}
	s.cur.users.Add(1)
	return s.cur, nil
}

var errOutputClosed = errors.New("output closed")

// Publish delivers the batch to the current output, and again to its
// replacement when the output is replaced before the batch is done.
func (s *switchOutput) Publish(ctx context.Context, events []pipeline.Event) error {
	for {
		slot, err := s.acquire()
		if err != nil {
			return err
		}
		pctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(slot.ctx, cancel)
		err = slot.out.Publish(pctx, events)
		stop()
		cancel()
		slot.users.Done()
		if err == nil || ctx.Err() != nil || slot.ctx.Err() == nil {
			return err
		}
		// Replaced mid-batch: deliver it to the new output.
	}
}

// Replace makes out the destination of every batch from now on, including
// those in delivery; the old output is closed once they have left it.
func (s *switchOutput) Replace(out pipeline.Output) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		out.Close()
		return errOutputClosed
	}
	old := s.cur
	s.cur = newOutputSlot(out)
	s.mu.Unlock()
	old.cancel()
	old.users.Wait()
	return old.out.Close()
}

// Close closes the current output; the pipeline calls it after draining.
func (s *switchOutput) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cur := s.cur
	s.mu.Unlock()
	cur.users.Wait()
	cur.cancel()
	return cur.out.Close()
}
