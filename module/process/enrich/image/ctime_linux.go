//go:build linux

package image

import (
	"encoding/binary"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// creationTime is the NTFS creation time of a file on an NTFS volume
// mounted with ntfs-3g or ntfs3, which expose it as the extended attribute
// system.ntfs_crtime (a FILETIME). Files copied out of an image (a triage
// collection on ext4) have no such time: their birth time is when they were
// copied, which would be a wrong value, so it is not used.
func creationTime(f *os.File, _ os.FileInfo) (time.Time, bool) {
	var b [8]byte
	n, err := unix.Fgetxattr(int(f.Fd()), "system.ntfs_crtime", b[:])
	if err != nil || n != 8 {
		return time.Time{}, false
	}
	return fromFiletime(binary.LittleEndian.Uint64(b[:])), true
}
