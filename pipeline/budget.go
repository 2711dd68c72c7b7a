package pipeline

import (
	"context"
	"sync"
	"sync/atomic"
)

// budget is a byte-counting semaphore: producers block while the bytes in
// flight would exceed the capacity. One item larger than the capacity is
// admitted when nothing else is in flight, so it cannot deadlock.
//
// Taking and giving back bytes is one atomic operation each while nobody
// waits: a producer takes bytes for every event, and a mutex there (with
// the pipeline's others) was a third of Publish's cost. The mutex only
// orders waiters with the releases that wake them.
type budget struct {
	cap     int64
	used    atomic.Int64
	waiters atomic.Int32 // producers between registering and waking

	mu   sync.Mutex
	wake chan struct{} // closed and replaced on a release while someone waits
}

func newBudget(capacity int64) *budget {
	return &budget{cap: capacity, wake: make(chan struct{})}
}

// take adds n to the bytes in flight if they fit.
func (b *budget) take(n int64) bool {
	for {
		u := b.used.Load()
		if u != 0 && u+n > b.cap {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *budget) acquire(ctx context.Context, stop <-chan struct{}, n int64) error {
	if b.take(n) {
		return nil
	}
	for {
		// Registered as a waiter before looking again: a release that
		// comes after this look sees the waiter, and closes the wake
		// channel read here (it needs mu for that, held until then).
		b.mu.Lock()
		b.waiters.Add(1)
		if b.take(n) {
			b.waiters.Add(-1)
			b.mu.Unlock()
			return nil
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
			b.waiters.Add(-1)
		case <-ctx.Done():
			b.waiters.Add(-1)
			return ctx.Err()
		case <-stop:
			b.waiters.Add(-1)
			return ErrClosed
		}
	}
}

func (b *budget) release(n int64) {
	b.used.Add(-n)
	if b.waiters.Load() > 0 {
		b.mu.Lock()
		close(b.wake)
		b.wake = make(chan struct{})
		b.mu.Unlock()
	}
}
