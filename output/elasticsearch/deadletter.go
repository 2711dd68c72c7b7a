package elasticsearch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"
)

// rejection is one permanently failed event.
type rejection struct {
	idx    int
	status int
	err    itemError
}

// DeadLetterVersion is the value of the marker key every record of the
// dead-letter file starts with; it is how a file is recognised as one, by
// its content rather than its name.
const DeadLetterVersion = 1

// DeadLetterRecord is one line of the dead-letter file. The marker comes
// first so that the first bytes of a file tell what it is.
type DeadLetterRecord struct {
	Marker    int       `json:"procbeat_dead_letter"`
	Timestamp string    `json:"@timestamp"`
	Index     string    `json:"index"`
	ID        string    `json:"id"`
	Status    int       `json:"status"`
	Error     itemError `json:"error"`
	// Document is the document exactly as it was sent.
	Document json.RawMessage `json:"document,omitempty"`
	// DocumentText holds a body that is not valid JSON, verbatim.
	DocumentText string `json:"document_text,omitempty"`
}

// Body is the document as it was sent.
func (r *DeadLetterRecord) Body() []byte {
	if len(r.Document) > 0 {
		return r.Document
	}
	return []byte(r.DocumentText)
}

// ErrDeadLetterFull is returned (wrapped) when writing would take the
// dead-letter file past its cap. The events concerned are not acknowledged:
// they stay behind the checkpoint and are sent again by the next run.
var ErrDeadLetterFull = errors.New("dead-letter file full")

// deadLetter appends rejected documents to an NDJSON file, fsynced before
// the events are acknowledged, up to maxBytes (0: no cap).
type deadLetter struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	size     int64
	maxBytes int64
}

func openDeadLetter(path string, maxBytes int64) (*deadLetter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("dead-letter file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dead-letter file %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dead-letter file %s: %w", path, err)
	}
	return &deadLetter{path: path, f: f, size: st.Size(), maxBytes: maxBytes}, nil
}

func (d *deadLetter) write(recs []DeadLetterRecord) error {
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
	if d.maxBytes > 0 && d.size+int64(len(buf)) > d.maxBytes {
		return fmt.Errorf("%w: %s holds %d bytes and %d documents (%d bytes) would take it past output.elasticsearch.dead_letter_max_bytes (%d)",
			ErrDeadLetterFull, d.path, d.size, len(recs), len(buf), d.maxBytes)
	}
	n, err := d.f.Write(buf)
	d.size += int64(n)
	if err != nil {
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

func newRecord(now time.Time, index, id string, body []byte, r rejection) DeadLetterRecord {
	rec := DeadLetterRecord{
		Marker:    DeadLetterVersion,
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

// legacyDeadLetter matches the start of a record written before the marker
// existed (procbeat up to issue 12): the keys in the order they were written.
var legacyDeadLetter = regexp.MustCompile(`^\{"@timestamp":"[^"]*","index":"[^"]*","id":"[^"]*","status":-?[0-9]+,"error":\{`)

var deadLetterPrefix = []byte(`{"procbeat_dead_letter":`)

// IsDeadLetter reports whether head, the first bytes of a file, is the
// start of a dead-letter file: a record with the marker key first, or a
// record in the older marker-less layout.
func IsDeadLetter(head []byte) bool {
	return bytes.HasPrefix(head, deadLetterPrefix) || legacyDeadLetter.Match(head)
}

// MaxDeadLetterLine bounds one line of a dead-letter file when it is read
// back: a rejected document is at most one bulk request (bulk_max_bytes).
const MaxDeadLetterLine = 64 << 20

// DeadLetterReader reads the records of a dead-letter file, one per line.
type DeadLetterReader struct {
	sc   *bufio.Scanner
	line int64
	rec  DeadLetterRecord
	err  error
}

// NewDeadLetterReader reads records from r.
func NewDeadLetterReader(r io.Reader) *DeadLetterReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxDeadLetterLine)
	return &DeadLetterReader{sc: sc}
}

// Next reads the next record; it returns false at the end or on an error
// (see Err). Blank lines are skipped. A line that is not a record stops the
// reader with an error naming the line: nothing after it is guessed at.
func (d *DeadLetterReader) Next() bool {
	for d.err == nil && d.sc.Scan() {
		d.line++
		b := bytes.TrimSpace(d.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		d.rec = DeadLetterRecord{}
		if err := json.Unmarshal(b, &d.rec); err != nil {
			d.err = fmt.Errorf("line %d: not a dead-letter record: %w", d.line, err)
			return false
		}
		switch {
		case d.rec.Index == "":
			d.err = fmt.Errorf("line %d: dead-letter record without index", d.line)
		case d.rec.ID == "":
			d.err = fmt.Errorf("line %d: dead-letter record without id", d.line)
		case len(d.rec.Document) == 0 && d.rec.DocumentText == "":
			d.err = fmt.Errorf("line %d: dead-letter record %s without document", d.line, d.rec.ID)
		}
		if d.err != nil {
			return false
		}
		// Unmarshal copies a RawMessage, so the document does not alias the
		// scanner's buffer and may be kept by the caller.
		return true
	}
	if d.err == nil {
		if err := d.sc.Err(); err != nil {
			d.err = fmt.Errorf("line %d: %w", d.line+1, err)
		}
	}
	return false
}

// Record is the record Next read.
func (d *DeadLetterReader) Record() *DeadLetterRecord { return &d.rec }

// Line is the line number of the record Next read, from 1.
func (d *DeadLetterReader) Line() int64 { return d.line }

// Err is the error that stopped Next, if any.
func (d *DeadLetterReader) Err() error { return d.err }
