//go:build unix

package image

import (
	"os"
	"syscall"
)

// fileID is the file's device and inode.
func fileID(_ *os.File, fi os.FileInfo) (uint64, uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}
