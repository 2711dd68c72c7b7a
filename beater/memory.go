package beater

import (
	"github.com/procbeat/procbeat/config"
)

// Memory: procbeat's own working set (buffers, batches, the registry's
// windows) stays under BaseMemory; the process table adds up to
// BytesPerProcess for each of procbeat.tracker.max_processes. Both were
// measured (issue 12): a resumed replay of the public corpus peaks at
// 33-41 MB; a table of 100,000 live processes of ordinary Sysmon events
// holds about 1.9 KB of heap per process (entry, argv, ancestry, the
// strings it keeps, the index by pid).
const (
	BaseMemory      = 64 << 20
	BytesPerProcess = 2560
)

// MemoryLimit is the soft limit procbeat sets on the Go runtime (see
// runtime/debug.SetMemoryLimit): BaseMemory plus the table's documented
// cost at its cap, less what the runtime does not manage (the mapped
// binary, about 16 MB), so that the peak RSS stays within the sum. Below it the garbage collector paces itself as usual;
// near it, it collects more often rather than let the heap double, so the
// process stays within what the configuration says it may use.
func MemoryLimit(cfg config.Config) int64 {
	return BaseMemory - unmanaged + int64(cfg.Procbeat.Tracker.MaxProcesses)*BytesPerProcess
}

// unmanaged is the resident memory outside the Go runtime's accounting.
const unmanaged = 16 << 20
