package main

import (
	"os"
	"runtime/debug"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
)

// applyMemoryLimit bounds the Go runtime's memory to what the configuration
// is documented to cost (beater.MemoryLimit), unless GOMEMLIMIT says
// otherwise. It is process-wide, so it is set here, by the command.
func applyMemoryLimit(cfg config.Config) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	debug.SetMemoryLimit(beater.MemoryLimit(cfg))
}
