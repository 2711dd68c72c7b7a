package pipeline

import (
	"context"
	"sync"
)

// budget is a byte-counting semaphore: producers block while the bytes in
// flight would exceed the capacity. One item larger than the capacity is
// admitted when nothing else is in flight, so it cannot deadlock.
type budget struct {
	mu   sync.Mutex
	cap  int64
	used int64
	wake chan struct{} // closed and replaced on every release
}

func newBudget(capacity int64) *budget {
	return &budget{cap: capacity, wake: make(chan struct{})}
}

func (b *budget) acquire(ctx context.Context, stop <-chan struct{}, n int64) error {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+n <= b.cap {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return ErrClosed
		}
	}
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	close(b.wake)
	b.wake = make(chan struct{})
	b.mu.Unlock()
}
