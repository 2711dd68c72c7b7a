//go:build !windows

package monitoring

import "syscall"

// cpuTimes returns the process's user and system CPU time in milliseconds.
func cpuTimes() (user, system int64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, false
	}
	ms := func(t syscall.Timeval) int64 { return int64(t.Sec)*1000 + int64(t.Usec)/1000 }
	return ms(ru.Utime), ms(ru.Stime), true
}
