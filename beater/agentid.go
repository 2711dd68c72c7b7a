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

	"github.com/procbeat/procbeat/internal/durable"
	"github.com/procbeat/procbeat/monitoring"
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
	if err := durable.WriteFile(path, raw, 0o600); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return meta.UUID, nil
}

// replayAgentID is agent.id for a run that keeps no checkpoints (replay
// without --resume): the installation's, as every run's documents carry
// it (Elastic Security's process tree asks for a process's events by its
// agent.id). Such a run needs nothing else of path.data, so one that
// cannot be written (a read-only installation) leaves agent.id out with
// a warning instead of refusing to replay.
func replayAgentID(dataDir string, log monitoring.Logger) string {
	if dataDir == "" {
		return "" // a configuration that did not go through path defaults (tests)
	}
	err := os.MkdirAll(dataDir, 0o750)
	var id string
	if err == nil {
		id, err = agentID(dataDir, log)
	}
	if err != nil {
		log.Warnf("documents carry no agent.id: path.data: %v", err)
		return ""
	}
	return id
}
