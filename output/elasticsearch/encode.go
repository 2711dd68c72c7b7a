package elasticsearch

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"

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

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Index names and ids are
// normally plain ASCII, which is copied in one go.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

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
