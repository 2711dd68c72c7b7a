//go:build !linux && !windows

package image

import (
	"os"
	"time"
)

// creationTime is unknown on this platform.
func creationTime(*os.File, os.FileInfo) (time.Time, bool) { return time.Time{}, false }
