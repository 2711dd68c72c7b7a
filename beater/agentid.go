package beater

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/registry"
)

// agentID returns this installation's agent.id, kept in <data>/meta.json
// as Beats keep theirs, and creates it on first use. An empty file is what
// a crash during the first write can leave (the rename reached the disk,
// the data not): it is treated as absent, with a warning, instead of
// stopping every command.
func agentID(dataDir string, log monitoring.Logger) (string, error) {
	path := filepath.Join(dataDir, "meta.json")
	var meta struct {
		UUID string `json:"uuid"`
	}
	raw, err := os.ReadFile(path)
	switch {
	case err == nil && len(bytes.TrimSpace(raw)) == 0:
		log.Warnf("%s is empty (an interrupted first start); writing a new agent id", path)
	case err == nil:
		if err := json.Unmarshal(raw, &meta); err != nil || meta.UUID == "" {
			return "", fmt.Errorf("%s: no uuid (%v): remove the file to get a new agent id", path, err)
		}
		return meta.UUID, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	meta.UUID = fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	raw, _ = json.Marshal(meta)
	if err := writeFileSync(path, raw); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return meta.UUID, nil
}

// writeFileSync replaces path with data durably: temp file, fsync, rename,
// fsync of the directory.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
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
	return registry.OS{}.SyncDir(filepath.Dir(path))
}
