// Package durable writes small state files so that they survive a crash:
// a whole new content or the old one, never a torn file.
package durable

import (
	"os"
	"path/filepath"
)

// SyncDir makes a rename in dir durable (a no-op on Windows, which cannot
// fsync a directory handle).
func SyncDir(dir string) error { return syncDir(dir) }

// WriteFile replaces path with data: a temporary file beside it, fsync,
// rename, fsync of the directory. On error the temporary file is removed
// and path keeps its previous content.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}
