// Package source turns every origin of event records into a Source (see
// iface.go): EVTX files (package evtx), rendered XML (xmlevent) and JSON
// exports (jsonevent), plain or inside .zip, .tar.gz/.tgz and .gz archives.
// Each source owns its position: a physical EVTX position, a byte offset in
// a text export. Live channels implement the same interface elsewhere.
package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Format is an input format.
type Format int

// Formats.
const (
	FormatUnknown Format = iota
	FormatXML
	FormatJSON
	FormatEVTX
)

func (f Format) String() string {
	switch f {
	case FormatXML:
		return "xml"
	case FormatJSON:
		return "json"
	case FormatEVTX:
		return "evtx"
	}
	return "unknown"
}

// ParseFormat reads a format name as String writes it; "auto" and "" give
// FormatUnknown (detect).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return FormatUnknown, nil
	case "xml":
		return FormatXML, nil
	case "json", "ndjson", "jsonl":
		return FormatJSON, nil
	case "evtx":
		return FormatEVTX, nil
	}
	return FormatUnknown, fmt.Errorf("unknown input format %q (want auto, xml, json or evtx)", s)
}

// evtxMagic opens every EVTX file header.
var evtxMagic = []byte("ElfFile\x00")

// SniffLen is how many leading bytes Detect wants to see.
const SniffLen = 512

// Detect picks a format from the first bytes of the content and, when they
// do not decide (empty or unusual content), from the file name's extension
// (.xml; .json, .ndjson, .jsonl; .evtx). Content wins over the extension
// because exports are often misnamed (.txt, .log, or .json holding XML).
// The content test skips a byte order mark, whitespace and the zero bytes of
// UTF-16 and looks at the first character: '<' is XML, '{' or '[' is JSON.
func Detect(name string, head []byte) Format {
	if bytes.HasPrefix(head, evtxMagic) {
		return FormatEVTX
	}
	h := head
	switch {
	case bytes.HasPrefix(h, []byte{0xEF, 0xBB, 0xBF}):
		h = h[3:]
	case bytes.HasPrefix(h, []byte{0xFF, 0xFE}), bytes.HasPrefix(h, []byte{0xFE, 0xFF}):
		h = h[2:]
	}
scan:
	for _, c := range h {
		switch c {
		case 0, ' ', '\t', '\r', '\n':
			continue
		case '<':
			return FormatXML
		case '{', '[':
			return FormatJSON
		}
		break scan
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xml":
		return FormatXML
	case ".json", ".ndjson", ".jsonl":
		return FormatJSON
	case ".evtx":
		return FormatEVTX
	}
	return FormatUnknown
}

// unlessEnded is a decoder's error, or nil when it is only the context
// having ended (a cancelled read is not a fault of the input).
func unlessEnded(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
