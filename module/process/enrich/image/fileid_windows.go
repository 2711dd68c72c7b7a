//go:build windows

package image

import (
	"os"

	"golang.org/x/sys/windows"
)

// fileID is the file's volume serial number and file index.
func fileID(f *os.File, _ os.FileInfo) (uint64, uint64) {
	var bhfi windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &bhfi); err != nil {
		return 0, 0
	}
	return uint64(bhfi.VolumeSerialNumber), uint64(bhfi.FileIndexHigh)<<32 | uint64(bhfi.FileIndexLow)
}
