package beater

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/procbeat/procbeat/monitoring"
)

// ErrUnreachable marks a replay given up because its output acknowledged
// nothing for too long while it refused or failed every request.
var ErrUnreachable = errors.New("output unreachable")

// Abort makes a Close that is draining (or about to) return at once: events
// not yet acknowledged are abandoned. The registry only ever holds
// acknowledged positions, so the next run reads them again.
func (b *Beater) Abort() {
	b.aborted.Store(true)
	b.cancel()
}

// WatchDelivery fails a job whose output is unreachable: when events wait,
// none has been acknowledged for max, and bulk requests failed in that time,
// it calls fail once with an ErrUnreachable error. A slow cluster that still
// acknowledges, or one that is merely idle, never trips it. It returns when
// ctx ends; max <= 0 watches nothing (retry for ever, as `run` does).
func (b *Beater) WatchDelivery(ctx context.Context, max time.Duration, fail func(error)) {
	if max <= 0 {
		return
	}
	tick := time.NewTicker(min(max/10, time.Second))
	defer tick.Stop()
	w := deliveryWatch{c: b.counters, max: max}
	w.reset(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if err := w.check(now); err != nil {
				fail(err)
				return
			}
		}
	}
}

// deliveryWatch is WatchDelivery's state, apart from its clock for tests.
type deliveryWatch struct {
	c        *monitoring.Counters
	max      time.Duration
	since    time.Time // last acknowledgement, or last time nothing waited
	acked    uint64
	failedAt uint64 // BulkRequestsFailed at since
}

func (w *deliveryWatch) reset(now time.Time) {
	w.since, w.acked, w.failedAt = now, w.c.EventsAcked.Load(), w.c.BulkRequestsFailed.Load()
}

func (w *deliveryWatch) check(now time.Time) error {
	if w.c.EventsAcked.Load() != w.acked || w.c.QueueDepth.Load() <= 0 {
		w.reset(now)
		return nil
	}
	failed := w.c.BulkRequestsFailed.Load() - w.failedAt
	if now.Sub(w.since) < w.max || failed == 0 {
		return nil
	}
	return fmt.Errorf("%w: no document acknowledged for %s while %d waited; %d bulk requests failed (see the log for why)",
		ErrUnreachable, w.max, w.c.QueueDepth.Load(), failed)
}

// RotatedAway lists the files written by this run that the file output's
// rotation deleted (output.file.number_of_files too small for the job).
func (b *Beater) RotatedAway() []string {
	if l, ok := b.out.(interface{ Lost() []string }); ok {
		return l.Lost()
	}
	return nil
}
