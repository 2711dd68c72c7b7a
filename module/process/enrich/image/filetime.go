//go:build linux

package image

import "time"

// fromFiletime converts a Windows FILETIME (100 ns since 1601-01-01): the
// creation time Linux keeps for NTFS files (ctime_linux.go).
func fromFiletime(ft uint64) time.Time {
	const epochDiff = 116444736000000000 // 1601 → 1970 in 100 ns units
	return time.Unix(0, (int64(ft)-epochDiff)*100).UTC()
}
