//go:build windows

package image

import (
	"os"
	"syscall"
	"time"
)

// creationTime is the file's NTFS creation time.
func creationTime(_ *os.File, fi os.FileInfo) (time.Time, bool) {
	if d, ok := fi.Sys().(*syscall.Win32FileAttributeData); ok {
		return time.Unix(0, d.CreationTime.Nanoseconds()).UTC(), true
	}
	return time.Time{}, false
}
