//go:build windows

package source

import (
	"fmt"
	"io/fs"

	"golang.org/x/sys/windows"
)

// nativeIdentity is the volume serial number and file index, which
// os.Stat does not return: the file is opened for its attributes only,
// sharing everything, so that a log being written (or renamed, or
// deleted) by another process is not disturbed.
func nativeIdentity(path string, _ fs.FileInfo) (Identity, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return Identity{}, fmt.Errorf("%s: %w", path, err)
	}
	h, err := windows.CreateFile(p, windows.FILE_READ_ATTRIBUTES,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return Identity{}, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer windows.CloseHandle(h)
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &info); err != nil {
		return Identity{}, &fs.PathError{Op: "GetFileInformationByHandle", Path: path, Err: err}
	}
	return Identity{Volume: uint64(info.VolumeSerialNumber), Index: uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow)}, nil
}
