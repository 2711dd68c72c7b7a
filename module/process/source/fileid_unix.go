//go:build unix

package source

import (
	"io/fs"
	"syscall"
)

// nativeIdentity is the device and inode, from the Stat already made
// (their types differ between systems, hence the conversions).
func nativeIdentity(_ string, fi fs.FileInfo) (Identity, error) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return Identity{Volume: uint64(st.Dev), Index: uint64(st.Ino)}, nil
	}
	return Identity{}, nil
}
