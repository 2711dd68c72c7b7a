//go:build !unix

// Package cputime reads the CPU time this process has used, for
// benchmarks: on a shared machine wall time is mostly other processes'
// load, CPU time much less so.
package cputime

import "time"

// Process is not measured on this platform: it returns 0.
func Process() time.Duration { return 0 }
