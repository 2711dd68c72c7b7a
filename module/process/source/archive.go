package source

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync/atomic"

	"github.com/procbeat/procbeat/evtx"
)

// ArchiveLimits bound what one archive may expand to, so that an archive
// bomb (a small file that decompresses to terabytes, or archives nested in
// archives) is refused with a clear error instead of filling the machine.
// Members are streamed, never extracted to disk, so the limits are on work
// and time, not disk. Zero values take the defaults.
type ArchiveLimits struct {
	// MaxBytes caps the bytes all the decompressors of one archive
	// (nested ones included) may produce. Default 32 GiB.
	MaxBytes int64
	// MaxRatio caps decompressed bytes per compressed byte read, checked
	// once an archive has produced RatioFloor bytes. Default 200: EVTX and
	// XML compress 5 to 30 times; gzip's own maximum is about 1030.
	MaxRatio int64
	// RatioFloor is how much an archive may produce before MaxRatio
	// applies, so that small, very compressible files pass. Default 64 MiB.
	RatioFloor int64
	// MaxDepth caps archives nested in archives (a .gz inside a .tar.gz is
	// depth 2). Default 3.
	MaxDepth int
}

// Default archive limits.
const (
	DefaultArchiveMaxBytes   = 32 << 30
	DefaultArchiveMaxRatio   = 200
	DefaultArchiveRatioFloor = 64 << 20
	DefaultArchiveMaxDepth   = 3
)

func (l ArchiveLimits) withDefaults() ArchiveLimits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultArchiveMaxBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultArchiveMaxRatio
	}
	if l.RatioFloor <= 0 {
		l.RatioFloor = DefaultArchiveRatioFloor
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultArchiveMaxDepth
	}
	return l
}

// ErrArchiveBomb is matched by the error refusing an archive that expands
// beyond ArchiveLimits.
var ErrArchiveBomb = errors.New("refused as an archive bomb")

// ArchiveKind tells an archive by its name: "zip", "tar", "tar.gz" (also
// .tgz), "gz", or "" for anything else.
func ArchiveKind(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.HasSuffix(n, ".zip"):
		return "zip"
	case strings.HasSuffix(n, ".tar.gz"), strings.HasSuffix(n, ".tgz"):
		return "tar.gz"
	case strings.HasSuffix(n, ".tar"):
		return "tar"
	case strings.HasSuffix(n, ".gz"):
		return "gz"
	}
	return ""
}

// IsInputName reports whether a file or member name is an event export
// procbeat reads from a directory or an archive (.evtx, .xml, .json,
// .ndjson, .jsonl).
func IsInputName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".evtx", ".xml", ".json", ".ndjson", ".jsonl":
		return true
	}
	return false
}

// budget counts one archive's compressed input and decompressed output.
type budget struct {
	lim     ArchiveLimits
	in, out atomic.Int64
	err     atomic.Pointer[error]
}

func (b *budget) failed() error {
	if p := b.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (b *budget) produced(n int) error {
	if err := b.failed(); err != nil {
		return err
	}
	out := b.out.Add(int64(n))
	var err error
	switch {
	case out > b.lim.MaxBytes:
		err = fmt.Errorf("%w: it expands to more than %d bytes (procbeat.archives.max_uncompressed_bytes)", ErrArchiveBomb, b.lim.MaxBytes)
	case out > b.lim.RatioFloor && out > b.lim.MaxRatio*max(b.in.Load(), 1):
		err = fmt.Errorf("%w: %d bytes expanded from %d compressed bytes, more than %d times (procbeat.archives.max_ratio)", ErrArchiveBomb, out, b.in.Load(), b.lim.MaxRatio)
	}
	if err != nil {
		b.err.CompareAndSwap(nil, &err)
	}
	return err
}

// countIn counts compressed bytes read from the archive file.
type countIn struct {
	r io.Reader
	b *budget
}

func (c countIn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.b.in.Add(int64(n))
	return n, err
}

type countInAt struct {
	r io.ReaderAt
	b *budget
}

func (c countInAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.b.in.Add(int64(n))
	return n, err
}

// countOut checks a decompressor's output against the budget.
type countOut struct {
	r io.Reader
	b *budget
}

func (c countOut) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if berr := c.b.produced(n); berr != nil {
		return 0, berr
	}
	return n, err
}

// memberSource is one input inside an archive. Its stream is opened by
// open; for a tar member the first call returns the archive's live stream,
// later ones stream the archive again up to the member.
type memberSource struct {
	id   string
	name string // archive path:member, as messages name it
	open func(ctx context.Context) (io.ReadCloser, error)
	opts Options
}

func (m *memberSource) ID() string { return m.id }

func (m *memberSource) Open(ctx context.Context, pos Position) (Reader, error) {
	r, err := m.openAt(ctx, pos)
	if errors.Is(err, evtx.ErrPositionChanged) {
		m.opts.notice("%v: reading it again from its start", err)
		return m.openAt(ctx, Position{})
	}
	return r, err
}

func (m *memberSource) openAt(ctx context.Context, pos Position) (Reader, error) {
	rc, err := m.open(ctx)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(ctxReader{ctx: ctx, r: rc}, checkLen)
	head, err := br.Peek(checkLen)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		rc.Close()
		return nil, fmt.Errorf("%s: %w", m.name, err)
	}
	format := m.opts.Format
	if format == FormatUnknown {
		format = Detect(m.name, head[:min(len(head), SniffLen)])
	}
	var r Reader
	switch format {
	case FormatEVTX:
		r, err = openEVTXStream(br, rc, m.name, pos, m.opts)
	case FormatXML, FormatJSON:
		r, err = openText(ctx, textInput{name: m.name, r: br, head: head, size: -1, closer: rc}, format, pos, m.opts)
	default:
		err = fmt.Errorf("%s: %w", m.name, ErrUnknownFormat)
	}
	if err != nil {
		rc.Close()
		return nil, err
	}
	return r, nil
}

// failedSource is a member that cannot be read; opening it says why.
type failedSource struct {
	id  string
	err error
}

func (f failedSource) ID() string { return f.id }
func (f failedSource) Open(context.Context, Position) (Reader, error) {
	return nil, f.err
}

// ArchiveMemberPrefix is how the IDs of archivePath's members begin.
func ArchiveMemberPrefix(archivePath string) string { return "archive:" + AbsPath(archivePath) + ":" }

// WalkArchive streams the archive at path (IsArchive) and calls fn with a
// Source for every input member (by IsInputName; the member of a .gz file
// whatever its name), in archive order, with archives nested in it expanded
// up to ArchiveLimits.MaxDepth. A member's Source must be read before fn
// returns: the archive is read in one pass. Members are keyed
// "archive:<absolute archive path>:<member path>" and named
// "<archive path>:<member path>" in every message. Nothing is written to
// disk. A member that cannot be read reaches fn as a Source whose Open
// fails; WalkArchive itself fails when the archive cannot be read, when it
// is refused as a bomb (ErrArchiveBomb), or when fn fails.
func WalkArchive(ctx context.Context, archivePath string, opts Options, fn func(Source) error) error {
	opts.Archive = opts.Archive.withDefaults()
	w := &walker{opts: opts, fn: fn, idBase: strings.TrimSuffix(ArchiveMemberPrefix(archivePath), ":"),
		b: &budget{lim: opts.Archive}}
	err := w.file(ctx, archivePath)
	if berr := w.b.failed(); berr != nil {
		// Members that hit the limit failed with it too; the archive
		// reports it once, naming itself.
		return fmt.Errorf("%s: %w", archivePath, berr)
	}
	return err
}

type walker struct {
	opts   Options
	fn     func(Source) error
	idBase string
	b      *budget
}

// file walks the archive file itself.
func (w *walker) file(ctx context.Context, name string) error {
	kind := ArchiveKind(name)
	f, err := w.opts.fsys().Open(ctx, name)
	if err != nil {
		return err
	}
	defer f.Close()
	if kind == "zip" {
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return w.zip(ctx, name, f, st.Size())
	}
	reopen := func(ctx context.Context) (io.ReadCloser, error) {
		g, err := w.opts.fsys().Open(ctx, name)
		if err != nil {
			return nil, err
		}
		return readCloser{countIn{r: ctxReader{ctx: ctx, r: g}, b: w.b}, g}, nil
	}
	// Skipping a member (tar) reads through it: ctx must reach those
	// reads too, not only the members' decoders.
	return w.stream(ctx, name, "", kind, countIn{r: ctxReader{ctx: ctx, r: f}, b: w.b}, reopen, 1)
}

// zip walks a zip file; its members are opened (and reopened) at random.
func (w *walker) zip(ctx context.Context, name string, f io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(countInAt{r: f, b: w.b}, size)
	if err != nil {
		return fmt.Errorf("%s: reading the zip directory: %w", name, err)
	}
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if berr := w.b.failed(); berr != nil {
			return berr
		}
		if !zf.Mode().IsRegular() {
			continue
		}
		zf := zf
		open := func(context.Context) (io.ReadCloser, error) {
			rc, err := zf.Open()
			if err != nil {
				return nil, fmt.Errorf("%s:%s: %w", name, zf.Name, err)
			}
			return readCloser{countOut{r: rc, b: w.b}, rc}, nil
		}
		if err := w.member(ctx, name, zf.Name, open, 1); err != nil {
			return err
		}
	}
	return nil
}

// stream walks a sequential archive (tar, tar.gz, gz) read from r. prefix
// is the chain of enclosing members ("outer.tar.gz:inner.tgz"), depth its
// nesting. reopen opens the raw archive bytes again for a member to be read
// a second time.
func (w *walker) stream(ctx context.Context, name, prefix, kind string, r io.Reader, reopen func(context.Context) (io.ReadCloser, error), depth int) error {
	label := name
	if prefix != "" {
		label = name + ":" + prefix
	}
	if depth > w.opts.Archive.MaxDepth {
		err := fmt.Errorf("%w: archives nested more than %d deep at %s (procbeat.archives.max_depth)", ErrArchiveBomb, w.opts.Archive.MaxDepth, label)
		w.b.err.CompareAndSwap(nil, &err)
		return err
	}
	var in io.Reader = r
	if kind == "gz" || kind == "tar.gz" {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		defer gz.Close()
		in = countOut{r: gz, b: w.b}
	}
	// decompressed reopens the archive and returns its decompressed bytes.
	decompressed := func(ctx context.Context) (io.Reader, io.Closer, error) {
		rc, err := reopen(ctx)
		if err != nil {
			return nil, nil, err
		}
		var in io.Reader = rc
		if kind == "gz" || kind == "tar.gz" {
			gz, err := gzip.NewReader(in)
			if err != nil {
				rc.Close()
				return nil, nil, fmt.Errorf("%s: %w", label, err)
			}
			in = countOut{r: gz, b: w.b}
		}
		return in, rc, nil
	}
	join := func(member string) string {
		if prefix == "" {
			return member
		}
		return prefix + ":" + member
	}
	if kind == "gz" {
		base := path.Base(prefix)
		if prefix == "" {
			base = path.Base(strings.ReplaceAll(name, "\\", "/"))
		}
		member := strings.TrimSuffix(base, path.Ext(base))
		open := firstThen(in, func(ctx context.Context) (io.ReadCloser, error) {
			d, c, err := decompressed(ctx)
			if err != nil {
				return nil, err
			}
			return readCloser{d, c}, nil
		})
		return w.memberAny(ctx, name, join(member), open, depth)
	}
	tr := tar.NewReader(in)
	for ordinal := 0; ; ordinal++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if berr := w.b.failed(); berr != nil {
				return berr
			}
			return fmt.Errorf("%s: reading the tar stream: %w", label, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		n := ordinal
		open := firstThen(tr, func(ctx context.Context) (io.ReadCloser, error) {
			// Stream the archive again up to the member.
			d, c, err := decompressed(ctx)
			if err != nil {
				return nil, err
			}
			t := tar.NewReader(d)
			for i := 0; i <= n; i++ {
				if _, err := t.Next(); err != nil {
					c.Close()
					return nil, fmt.Errorf("%s: streaming again to member %d: %w", label, n, err)
				}
			}
			return readCloser{t, c}, nil
		})
		if err := w.member(ctx, name, join(h.Name), open, depth); err != nil {
			return err
		}
	}
}

// firstThen is a member's open: the first call reads the member from the
// stream being walked (first), later ones from again, which reads the
// archive anew.
func firstThen(first io.Reader, again func(context.Context) (io.ReadCloser, error)) func(context.Context) (io.ReadCloser, error) {
	live := true
	return func(ctx context.Context) (io.ReadCloser, error) {
		if live {
			live = false
			return io.NopCloser(first), nil
		}
		return again(ctx)
	}
}

// member hands an input member to fn, or walks a nested archive; other
// members are skipped.
func (w *walker) member(ctx context.Context, name, member string, open func(context.Context) (io.ReadCloser, error), depth int) error {
	if ArchiveKind(member) == "" && !IsInputName(member) {
		return nil
	}
	return w.memberAny(ctx, name, member, open, depth)
}

// memberAny is member without the name filter (a .gz file's only member).
func (w *walker) memberAny(ctx context.Context, name, member string, open func(context.Context) (io.ReadCloser, error), depth int) error {
	id := w.idBase + ":" + member
	switch kind := ArchiveKind(member); kind {
	case "":
	case "zip":
		// A zip needs random access, which a member stream does not
		// give without extracting it.
		return w.fn(failedSource{id: id, err: fmt.Errorf("%s:%s: a zip inside an archive cannot be read without extracting it; extract the outer archive first", name, member)})
	default:
		rc, err := open(ctx)
		if err != nil {
			return w.fn(failedSource{id: id, err: err})
		}
		defer rc.Close()
		reopen := func(ctx context.Context) (io.ReadCloser, error) { return open(ctx) }
		err = w.stream(ctx, name, member, kind, rc, reopen, depth+1)
		if errors.Is(err, ErrArchiveBomb) || ctx.Err() != nil {
			return err
		}
		if err != nil {
			// A broken nested archive costs its own members only.
			return w.fn(failedSource{id: id, err: err})
		}
		return nil
	}
	return w.fn(&memberSource{id: id, name: name + ":" + member, open: open, opts: w.opts})
}

type readCloser struct {
	io.Reader
	io.Closer
}

// String names the member in messages: archive path:member path.
func (m *memberSource) String() string { return m.name }
