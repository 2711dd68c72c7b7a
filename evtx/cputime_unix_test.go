//go:build unix

package evtx

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user+system) this process has used; the
// benchmarks report it per record because wall time on a shared machine is
// mostly other people's load.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
