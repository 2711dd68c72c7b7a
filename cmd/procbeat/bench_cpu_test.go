//go:build unix

package main

import (
	"syscall"
	"testing"
)

// BenchmarkCommandReplayCPU is BenchmarkCommandReplay with the CPU time of
// the whole process per run (user+system, every goroutine: GC workers, the
// console writer), comparable with `procbeat replay FILE` measured from
// outside; the difference is what a fresh process adds (start-up, heap
// growth, page faults).
//
//	GOMAXPROCS=1 PROCBEAT_BENCH_EVTX=/tmp/mixed.evtx go test -run XXX \
//	    -bench CommandReplayCPU -benchtime 5x ./cmd/procbeat
func BenchmarkCommandReplayCPU(b *testing.B) {
	file := benchFile(b)
	start := processCPU(b)
	benchCommand(b, "replay", file)
	b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
}

// processCPU is the user+system CPU time the process has used so far.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
