//go:build windows

package monitoring

import "syscall"

// cpuTimes returns the process's user and system (kernel) CPU time in
// milliseconds.
func cpuTimes() (user, system int64, ok bool) {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0, 0, false
	}
	var creation, exit, kernel, usr syscall.Filetime
	if err := syscall.GetProcessTimes(h, &creation, &exit, &kernel, &usr); err != nil {
		return 0, 0, false
	}
	// FILETIME durations count 100 ns intervals.
	ms := func(f syscall.Filetime) int64 { return (int64(f.HighDateTime)<<32 | int64(f.LowDateTime)) / 10000 }
	return ms(usr), ms(kernel), true
}
