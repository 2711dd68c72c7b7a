//go:build unix

// Package cputime reads the CPU time this process has used, for
// benchmarks: on a shared machine wall time is mostly other processes'
// load, CPU time much less so.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the user and system CPU time of this process so far, or
// 0 when it cannot be read.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
