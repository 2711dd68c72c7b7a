package beater

import (
	"errors"
	"testing"
	"time"

	"github.com/procbeat/procbeat/monitoring"
)

func TestDeliveryWatch(t *testing.T) {
	c := &monitoring.Counters{}
	w := deliveryWatch{c: c, max: time.Minute}
	t0 := time.Unix(0, 0)
	w.reset(t0)
	c.QueueDepth.Store(10)
	c.BulkRequestsFailed.Add(3)
	if err := w.check(t0.Add(59 * time.Second)); err != nil {
		t.Fatalf("tripped before max: %v", err)
	}
	// An acknowledgement restarts the clock: a slow cluster is not down.
	c.EventsAcked.Add(1)
	if err := w.check(t0.Add(61 * time.Second)); err != nil {
		t.Fatalf("tripped despite progress: %v", err)
	}
	// Nothing failed since: waiting on a hung request is the timeout's job.
	if err := w.check(t0.Add(200 * time.Second)); err != nil {
		t.Fatalf("tripped without failed requests: %v", err)
	}
	c.BulkRequestsFailed.Add(1)
	if err := w.check(t0.Add(200 * time.Second)); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("did not trip: %v", err)
	}
	// Nothing waiting: an idle output is not unreachable.
	c.QueueDepth.Store(0)
	if err := w.check(t0.Add(400 * time.Second)); err != nil {
		t.Fatalf("tripped while idle: %v", err)
	}
}
