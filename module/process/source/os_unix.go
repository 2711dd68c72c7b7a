//go:build unix

package source

import (
	"os"
	"syscall"
)

// openNonBlocking opens name with O_NONBLOCK: opening a FIFO for reading
// otherwise blocks until a writer appears, beyond the reach of any
// cancellation. The flag changes nothing for regular files.
func openNonBlocking(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
