package elasticsearch

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// rejection is one permanently failed event.
type rejection struct {
	idx    int
	status int
	err    itemError
}

// deadLetterRecord is one line of the dead-letter file.
type deadLetterRecord struct {
	Timestamp string          `json:"@timestamp"`
	Index     string          `json:"index"`
	ID        string          `json:"id"`
	Status    int             `json:"status"`
	Error     itemError       `json:"error"`
	Document  json.RawMessage `json:"document,omitempty"`
	// DocumentText holds a body that is not valid JSON, verbatim.
	DocumentText string `json:"document_text,omitempty"`
}

// deadLetter appends rejected documents to an NDJSON file, fsynced before
// the events are acknowledged.
type deadLetter struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

func openDeadLetter(path string) (*deadLetter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("dead-letter file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dead-letter file %s: %w", path, err)
	}
	return &deadLetter{path: path, f: f}, nil
}

func (d *deadLetter) write(recs []deadLetterRecord) error {
	var buf []byte
	for i := range recs {
		line, err := json.Marshal(&recs[i])
		if err != nil {
			return fmt.Errorf("dead-letter record for id %s: %w", recs[i].ID, err)
		}
		buf = append(buf, line...)
		buf = append(buf, '\n')
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.f.Write(buf); err != nil {
		return fmt.Errorf("dead-letter file %s: %w", d.path, err)
	}
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("dead-letter file %s: sync: %w", d.path, err)
	}
	return nil
}

func (d *deadLetter) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.f.Close()
}

func newRecord(now time.Time, index, id string, body []byte, r rejection) deadLetterRecord {
	rec := deadLetterRecord{
		Timestamp: now.UTC().Format(time.RFC3339Nano),
		Index:     index,
		ID:        id,
		Status:    r.status,
		Error:     r.err,
	}
	if json.Valid(body) {
		rec.Document = body
	} else {
		rec.DocumentText = string(body)
	}
	return rec
}
