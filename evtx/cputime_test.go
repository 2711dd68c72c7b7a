package evtx

import (
	"time"

	"github.com/procbeat/procbeat/internal/cputime"
)

// processCPU returns the CPU time (user+system) this process has used; the
// benchmarks report it per record because wall time on a shared machine is
// mostly other people's load.
func processCPU() time.Duration { return cputime.Process() }
