package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live, floor uint64
		base, want  int
	}{
		{4 * mb, 24 * mb, 100, 500},  // goal 4 × 6 = 24 MB
		{10 * mb, 24 * mb, 100, 140}, // goal 24 MB
		{12 * mb, 24 * mb, 100, 100}, // twice the live heap is the floor
		{20 * mb, 24 * mb, 100, 100},
		{8 * mb, 24 * mb, 50, 200},
		{0, 24 * mb, 100, 100}, // nothing known: the base
	} {
		got := gcPercentFor(c.live, c.floor, c.base)
		if got != c.want {
			t.Errorf("gcPercentFor(%d MB, %d MB, %d) = %d, want %d", c.live/mb, c.floor/mb, c.base, got, c.want)
		}
		if got != c.base {
			if goal := c.live * uint64(100+got) / 100; goal < c.floor-mb || goal > c.floor+mb {
				t.Errorf("live %d MB, GOGC %d: goal %d MB, not the floor", c.live/mb, got, goal/mb)
			}
		}
	}
}

// gcPercent is the current GOGC.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestHeapFloorLeavesGOGCFromEnvironment(t *testing.T) {
	t.Setenv("GOGC", "77")
	defer debug.SetGCPercent(debug.SetGCPercent(77))
	stop := applyHeapFloor()
	runtime.GC()
	stop()
	if p := gcPercent(); p != 77 {
		t.Errorf("GOGC set in the environment: the floor changed it to %d", p)
	}
}

func TestHeapFloorTunesAndStops(t *testing.T) {
	if v, ok := os.LookupEnv("GOGC"); ok {
		t.Skipf("GOGC=%s in the environment: the floor is off", v)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	stop := applyHeapFloor()
	if p := gcPercent(); p <= 100 {
		t.Errorf("GOGC %d with a live heap under half the floor", p)
	}
	// The finalizer runs on its own goroutine after a cycle: collect
	// until it has tuned GOGC for the new live heap.
	settle := func(done func(p int) bool) int {
		deadline := time.Now().Add(5 * time.Second)
		for !done(gcPercent()) && time.Now().Before(deadline) {
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
		return gcPercent()
	}
	big := make([]byte, heapFloor/2) // twice the live heap is over the floor
	if p := settle(func(p int) bool { return p == 100 }); p != 100 {
		t.Errorf("live heap over half the floor: GOGC %d, want 100", p)
	}
	runtime.KeepAlive(big)
	big = nil
	if p := settle(func(p int) bool { return p > 100 }); p <= 100 {
		t.Errorf("live heap under half the floor again: GOGC %d, want more than 100", p)
	}
	stop()
	if p := gcPercent(); p != 100 {
		t.Errorf("after stop, GOGC %d, want the default 100", p)
	}
	for range 3 {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if p := gcPercent(); p != 100 {
		t.Errorf("a stopped floor still tunes: GOGC %d", p)
	}
}
