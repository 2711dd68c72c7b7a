//go:build windows

package durable

// syncDir is a no-op: Windows cannot fsync a directory handle, and
// MoveFileEx (os.Rename) with the file already flushed is what it offers.
func syncDir(string) error { return nil }
