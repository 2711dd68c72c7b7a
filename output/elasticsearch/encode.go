package elasticsearch

import (
	"bytes"
	"fmt"

	"github.com/klauspost/compress/gzip"

	"github.com/procbeat/procbeat/internal/jsonstr"
	"github.com/procbeat/procbeat/pipeline"
)

// AppendCreate appends one bulk create action for ev, and its document, to
// dst: `{"create":{"_index":...,"_id":...}}\n<Body>\n`.
func AppendCreate(dst []byte, ev *pipeline.Event) []byte {
	dst = append(dst, `{"create":{"_index":`...)
	dst = appendString(dst, ev.Index)
	dst = append(dst, `,"_id":`...)
	dst = appendString(dst, ev.ID)
	dst = append(dst, "}}\n"...)
	dst = append(dst, ev.Body...)
	return append(dst, '\n')
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte { return jsonstr.Append(dst, s) }

// encoder builds bulk request bodies in buffers reused across requests.
type encoder struct {
	level int
	raw   []byte
	zbuf  bytes.Buffer
	gz    *gzip.Writer
}

func newEncoder(level int) *encoder {
	e := &encoder{level: level}
	if level > 0 {
		// The level was validated, so NewWriterLevel cannot fail.
		e.gz, _ = gzip.NewWriterLevel(&e.zbuf, level)
	}
	return e
}

// encode renders events[idx...] as a bulk body, compressed if configured.
// The result is valid until the next call.
func (e *encoder) encode(events []pipeline.Event, idx []int) ([]byte, error) {
	e.raw = e.raw[:0]
	for _, i := range idx {
		e.raw = AppendCreate(e.raw, &events[i])
	}
	if e.gz == nil {
		return e.raw, nil
	}
	e.zbuf.Reset()
	e.gz.Reset(&e.zbuf)
	if _, err := e.gz.Write(e.raw); err != nil {
		return nil, fmt.Errorf("compressing bulk body: %w", err)
	}
	if err := e.gz.Close(); err != nil {
		return nil, fmt.Errorf("compressing bulk body: %w", err)
	}
	return e.zbuf.Bytes(), nil
}
