package source

import (
	"io/fs"
	"strconv"
	"strings"
)

// Identity is a file's native identity, as Filebeat's `native`
// file_identity takes it: the device and inode on Unix, the volume serial
// number and file index on Windows. A rename keeps it; two files that
// exist at once never share it (hard links are one file). It may be
// reused once a file is deleted, so a position found by identity is still
// checked against the file's content (Position.Check) when opened.
type Identity struct {
	Volume, Index uint64
}

// IsZero reports an unknown identity (a platform or file system without
// one): such a file is followed by its path only.
func (i Identity) IsZero() bool { return i == Identity{} }

// String is the identity as the registry stores it: "volume-index".
func (i Identity) String() string {
	if i.IsZero() {
		return ""
	}
	return strconv.FormatUint(i.Volume, 10) + "-" + strconv.FormatUint(i.Index, 10)
}

// IdentityOf is the identity of the file at path, whose os.Stat is fi
// (links followed): the zero Identity where the platform has none.
func IdentityOf(path string, fi fs.FileInfo) (Identity, error) { return nativeIdentity(path, fi) }

// PathOf is the path of a plain file's source ID (see ID), false for the
// IDs of other sources (archive members, channels).
func PathOf(id string) (string, bool) { return strings.CutPrefix(id, "file:") }
