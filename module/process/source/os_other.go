//go:build !unix

package source

import "os"

// openNonBlocking opens name. Outside Unix, opening a named pipe's path
// (\\.\pipe\...) is not reached through directory walks, and os.Open does
// not wait for a writer.
func openNonBlocking(name string) (*os.File, error) { return os.Open(name) }
