package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/procbeat/procbeat/module/process/decode"
)

// Options configure how file sources are read. The zero value reads with
// default decoder options and archive limits.
type Options struct {
	// Decode configures the XML and JSON decoders; its OnError also
	// receives EVTX chunk and record errors (as *decode.RecordError).
	Decode decode.Options
	// Format forces a format; FormatUnknown detects it per file.
	Format Format
	// Filter, when set, is asked with the provider and event id of every
	// EVTX record before the rest of it is decoded (mapping.Wants); the
	// records it rejects are counted (Filtered) and not returned. It must
	// be safe for concurrent use.
	Filter func(provider string, eventID uint16) bool
	// Notice receives what a person should know that is not an error: a
	// saved position that no longer fits its file, so the file is read
	// again from its start.
	Notice func(msg string)
	// Archive bounds what archives may expand to.
	Archive ArchiveLimits
	// FS is where files are opened; OS by default.
	FS FS
	// Growing says files may still be written to (procbeat run watches
	// folders that fill): an EVTX file's last chunk is read once whole,
	// and a file holding less than its header declares is not an error
	// (evtx.Options.Growing); a later read continues from its position.
	Growing bool
}

func (o Options) notice(format string, args ...any) {
	if o.Notice != nil {
		o.Notice(fmt.Sprintf(format, args...))
	}
}

func (o Options) fsys() FS {
	if o.FS == nil {
		return OS{}
	}
	return o.FS
}

// FS opens the files sources read. Tests inject one to count the bytes read
// or to fail.
type FS interface {
	// Open opens a regular file for reading without blocking: anything
	// else (a FIFO, a socket, a device) is refused with an error matching
	// ErrNotRegular. ctx bounds the open.
	Open(ctx context.Context, name string) (File, error)
}

// File is an opened regular file.
type File interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer
	Stat() (fs.FileInfo, error)
}

// ErrNotRegular is matched by the error for a path that is not a regular
// file: reading a FIFO or a device could block for ever or never end.
var ErrNotRegular = errors.New("not a regular file")

// NotRegularError names a path that is not a regular file and what it is.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s: skipped: %s, %v", e.Path, KindOf(e.Mode), ErrNotRegular)
}

func (e *NotRegularError) Unwrap() error { return ErrNotRegular }

// KindOf names a file mode's type for messages.
func KindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file"
}

// ID is the registry key of a file: "file:" and its cleaned absolute path,
// so a log copied again to the same place (grown) resumes where the previous
// copy stopped.
func ID(path string) string { return "file:" + AbsPath(path) }

// AbsPath is path cleaned and made absolute, as ID keys it (path cleaned
// when the working directory cannot be told).
func AbsPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	return abs
}

// fileSource is a plain file of any format, detected when it is opened.
type fileSource struct {
	path string
	opts Options
}

// NewFile returns the Source of the file at path (not an archive: see
// IsArchive and Archive).
func NewFile(path string, opts Options) Source { return &fileSource{path: path, opts: opts} }

func (s *fileSource) ID() string { return ID(s.path) }

func (s *fileSource) Open(ctx context.Context, pos Position) (Reader, error) {
	f, err := s.opts.fsys().Open(ctx, s.path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	head := make([]byte, max(SniffLen, checkLen))
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		f.Close()
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	head = head[:n]
	format := s.opts.Format
	if format == FormatUnknown {
		format = Detect(s.path, head[:min(n, SniffLen)])
	}
	var r Reader
	switch format {
	case FormatEVTX:
		r, err = openEVTX(f, st.Size(), s.path, pos, s.opts)
	case FormatXML, FormatJSON:
		r, err = openText(ctx, textInput{name: s.path, r: f, head: head[:min(n, checkLen)], size: st.Size(),
			seek: func(off int64) error {
				_, err := f.Seek(off, io.SeekStart)
				return err
			}, closer: f}, format, pos, s.opts)
	default:
		err = fmt.Errorf("%s: %w", s.path, ErrUnknownFormat)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// ErrUnknownFormat is returned for content that is none of the formats.
var ErrUnknownFormat = errors.New("cannot tell the input format (want XML, JSON or EVTX)")

// ctxReader makes every read of r fail once ctx has ended, so that a
// decoder looping over a large input stops promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// String names the file in messages.
func (s *fileSource) String() string { return s.path }
