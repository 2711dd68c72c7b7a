package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// heapFloor is the smallest heap goal procbeat lets the garbage collector
// aim for. With the runtime's default (GOGC=100: a goal of twice the live
// heap, at least 4 MB), a replay collects every few MB while its tables
// fill (cycles at goals of 4, 4, 4, 7, 13 and 20 MB on a 200 MB file), each
// keeping write barriers on for milliseconds; with the floor, 3 cycles
// instead of 8 (measured: replay of that file 335 -> 317 ms CPU on one
// core). The floor does not raise the peak, which comes later at twice the
// live heap (33-42 MB, peak RSS 50 MB on that file and 62-64 MB on 1 GB
// with or without it), and the memory limit (applyMemoryLimit) still
// bounds the heap.
const heapFloor = 24 << 20

// gcPercentFor is the GOGC that makes the heap goal max(floor, live ×
// (1 + base/100)): base once that is over the floor.
func gcPercentFor(live, floor uint64, base int) int {
	if live == 0 || live*uint64(100+base)/100 >= floor {
		return base
	}
	return int(floor*100/live) - 100
}

// gcFloor keeps GOGC at gcPercentFor after every collection, from a
// finalizer: the runtime runs it once a cycle has found its sentinel
// unreachable, and it arms the next sentinel.
type gcFloor struct {
	floor uint64
	base  int // GOGC without the floor: the runtime's default

	mu      sync.Mutex
	stopped bool
	percent int
	live    []metrics.Sample
}

// floorSentinel holds a pointer so that it is not a tiny allocation, whose
// finalizer might never run.
type floorSentinel struct{ f *gcFloor }

// applyHeapFloor keeps the heap goal at or above heapFloor, unless GOGC
// says how the collector must pace itself. The function it returns stops
// that and sets the runtime's default GOGC (100) back; calling it is
// required (the setting is process-wide).
func applyHeapFloor() (stop func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	f := &gcFloor{floor: heapFloor, base: 100, live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	// Before the first cycle the runtime paces as for a live heap of
	// 4 MB, its minimum.
	f.percent = gcPercentFor(4<<20, f.floor, f.base)
	debug.SetGCPercent(f.percent)
	f.tune()
	f.arm()
	return f.stop
}

func (f *gcFloor) arm() {
	runtime.SetFinalizer(&floorSentinel{f}, func(s *floorSentinel) {
		if s.f.tune() {
			s.f.arm()
		}
	})
}

// tune sets GOGC for the live heap the last collection left; false once
// stopped.
func (f *gcFloor) tune() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return false
	}
	metrics.Read(f.live)
	live := uint64(4 << 20)
	if v := f.live[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > 0 {
		live = v.Uint64()
	}
	if p := gcPercentFor(live, f.floor, f.base); p != f.percent {
		f.percent = p
		debug.SetGCPercent(p)
	}
	return true
}

func (f *gcFloor) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stopped {
		f.stopped = true
		debug.SetGCPercent(f.base)
	}
}
