//go:build !windows

package config

import (
	"os"
	"syscall"
)

// fileOwner is the uid owning a file.
func fileOwner(st os.FileInfo) (int, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(sys.Uid), true
}
