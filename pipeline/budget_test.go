package pipeline

import (
	"context"
	"sync"
	"testing"
)

// Producers racing for a budget a few items wide, each releasing what it
// took: none ever sees more in flight than the capacity (one item alone
// excepted), and none waits for ever on a release it missed.
func TestBudgetWakesEveryWaiter(t *testing.T) {
	b := newBudget(10)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				n := int64(1 + (g+i)%4)
				if i%500 == 0 {
					n = 25 // larger than the budget: admitted alone
				}
				if err := b.acquire(context.Background(), nil, n); err != nil {
					t.Error(err)
					return
				}
				if u := b.used.Load(); u > b.cap && u != n {
					t.Errorf("%d bytes in flight, capacity %d", u, b.cap)
				}
				b.release(n)
			}
		}()
	}
	wg.Wait()
	if u := b.used.Load(); u != 0 {
		t.Fatalf("%d bytes left in flight", u)
	}
}

// A waiter gives up when its context ends or the pipeline stops, and no
// longer counts as one.
func TestBudgetWaiterGivesUp(t *testing.T) {
	b := newBudget(10)
	if err := b.acquire(context.Background(), nil, 10); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.acquire(ctx, nil, 1); err != context.Canceled {
		t.Fatalf("acquire with a cancelled context: %v", err)
	}
	stop := make(chan struct{})
	close(stop)
	if err := b.acquire(context.Background(), stop, 1); err != ErrClosed {
		t.Fatalf("acquire once stopped: %v", err)
	}
	if w := b.waiters.Load(); w != 0 {
		t.Fatalf("%d waiters left", w)
	}
	b.release(10)
	if err := b.acquire(context.Background(), nil, 10); err != nil {
		t.Fatal(err)
	}
}
