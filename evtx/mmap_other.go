//go:build !linux

package evtx

import "os"

// mapFile does not map files outside Linux: chunks are read with pread
// (ReadAt) there.
func mapFile(*os.File, int64) []byte { return nil }

func dropPages([]byte) {}

func unmapFile([]byte) error { return nil }
