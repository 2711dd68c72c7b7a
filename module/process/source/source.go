// Package source opens event files and picks the decoder for each: rendered
// XML (xmlevent), JSON exports (jsonevent) and EVTX, whose reader is plugged
// in through Opener.EVTX so that this package does not depend on it.
package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/decode/jsonevent"
	"github.com/procbeat/procbeat/module/process/decode/xmlevent"
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

// EVTXOpener makes a decode.Reader over an EVTX file. The EVTX reader
// (package github.com/procbeat/procbeat/evtx) is plugged in here by the
// caller.
type EVTXOpener func(r io.ReaderAt, size int64, name string, opts decode.Options) (decode.Reader, error)

// Errors from Open.
var (
	ErrUnknownFormat = errors.New("cannot tell the input format (want XML, JSON or EVTX)")
	ErrNoEVTXReader  = errors.New("EVTX input but no EVTX reader configured")
)

// Opener opens sources. The zero value opens XML and JSON with default
// options.
type Opener struct {
	Options decode.Options
	// Format forces a format; FormatUnknown detects it per file.
	Format Format
	EVTX   EVTXOpener
}

// File is an opened source: a decode.Reader over the file.
type File struct {
	decode.Reader
	Format Format
	Path   string
	f      *os.File
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Open opens path and returns a reader of its records.
func (o Opener) Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	format := o.Format
	var br *bufio.Reader
	if format == FormatUnknown {
		br = bufio.NewReaderSize(f, 64<<10)
		head, err := br.Peek(SniffLen)
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		format = Detect(path, head)
	}
	var r decode.Reader
	switch format {
	case FormatEVTX:
		if o.EVTX == nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, ErrNoEVTXReader)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r, err = o.EVTX(f, st.Size(), path, o.Options)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	case FormatXML, FormatJSON:
		var in io.Reader = f
		if br != nil {
			in = br
		}
		r, _ = o.NewReader(in, path, format)
	default:
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, ErrUnknownFormat)
	}
	return &File{Reader: r, Format: format, Path: path, f: f}, nil
}

// NewReader returns a reader of records from a stream in a text format
// (XML or JSON), for standard input and the like; name is used in errors.
func (o Opener) NewReader(r io.Reader, name string, format Format) (decode.Reader, error) {
	switch format {
	case FormatXML:
		return xmlevent.NewDecoder(r, name, o.Options), nil
	case FormatJSON:
		return jsonevent.NewDecoder(r, name, o.Options), nil
	case FormatUnknown:
		br := bufio.NewReaderSize(r, 64<<10)
		head, _ := br.Peek(SniffLen)
		f := Detect(name, head)
		if f == FormatXML || f == FormatJSON {
			return o.NewReader(br, name, f)
		}
		if f == FormatEVTX {
			return nil, fmt.Errorf("%s: EVTX needs a file, not a stream", name)
		}
	}
	return nil, fmt.Errorf("%s: %w", name, ErrUnknownFormat)
}
