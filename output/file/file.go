// Package file writes events as NDJSON to rotating files, acknowledging a
// batch only after it is written and fsynced.
package file

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	agentfile "github.com/elastic/elastic-agent-libs/file"

	"github.com/procbeat/procbeat/internal/fielderr"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
)

// Config is output.file.* as in Beats (procbeat's section adds enabled and
// codec, which choose the output and the encoding, not how files are
// written).
type Config struct {
	Path            string        `config:"path"`
	Filename        string        `config:"filename"`
	RotateEveryKB   uint          `config:"rotate_every_kb"`
	NumberOfFiles   uint          `config:"number_of_files"` // kept in all, current one included
	Permissions     os.FileMode   `config:"permissions"`
	RotateOnStartup bool          `config:"rotate_on_startup"`
	BatchSize       int           `config:"batch_size"`
	FlushInterval   time.Duration `config:"flush_interval"`
}

// DefaultConfig mirrors Beats' file output defaults; the directory is
// procbeat-out (relative to the working directory).
func DefaultConfig() Config {
	return Config{
		Path:            "procbeat-out",
		Filename:        "procbeat",
		RotateEveryKB:   10 * 1024,
		NumberOfFiles:   7,
		Permissions:     0o600,
		RotateOnStartup: true,
		BatchSize:       2048,
		FlushInterval:   time.Second,
	}
}

// Validate reports settings that cannot work. Errors are *fielderr.Error
// with keys relative to the section.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) { errs = append(errs, fielderr.New(key, format, args...)) }
	if c.Path == "" {
		bad("path", "is required")
	}
	if c.Filename == "" {
		bad("filename", "is required")
	}
	if c.RotateEveryKB == 0 {
		bad("rotate_every_kb", "must be positive")
	}
	if c.NumberOfFiles < 2 || c.NumberOfFiles > agentfile.MaxBackupsLimit {
		bad("number_of_files", "must be 2-%d, got %d", agentfile.MaxBackupsLimit, c.NumberOfFiles)
	}
	if c.Permissions == 0 || c.Permissions > os.ModePerm {
		bad("permissions", "%#o: want file permission bits such as 0600", uint32(c.Permissions))
	}
	if c.BatchSize < 1 {
		bad("batch_size", "must be at least 1, got %d", c.BatchSize)
	}
	if c.FlushInterval <= 0 {
		bad("flush_interval", "must be positive, got %s", c.FlushInterval)
	}
	return errors.Join(errs...)
}

// Output implements pipeline.Output.
type Output struct {
	cfg     Config
	c       *monitoring.Counters
	log     monitoring.Logger
	maxSize int

	mu  sync.Mutex
	rot *agentfile.Rotator
	buf []byte
	// active is the file being written ("" until a write finds it, after
	// New and each rotation: the rotator does not say) and size its
	// length. The rotator's own count misses a fresh file's first write
	// and an appended file's content (elastic-agent-libs v0.47.0), so
	// that files outgrew rotate_every_kb: Output rotates itself, before
	// a line that would not fit (write).
	active string
	size   int
	// check: active is the file appended to that open guessed, and
	// appended the set's files before it was opened (checkAppended).
	check    bool
	appended map[string]os.FileInfo
	// batchFiles are the files the batch being written went to.
	batchFiles []string
	// written holds the files of the set this output wrote to, and lost
	// those that rotation deleted since: number_of_files too small for the
	// job silently discards its output otherwise (the rotator has no hook).
	started time.Time
	written map[string]bool
	lost    []string
}

// New opens the rotating file set <path>/<filename>*.ndjson.
func New(cfg Config, c *monitoring.Counters, log monitoring.Logger) (*Output, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if c == nil {
		c = &monitoring.Counters{}
	}
	if log == nil {
		log = monitoring.NopLogger{}
	}
	maxSize := cfg.RotateEveryKB * 1024
	rot, err := agentfile.NewFileRotator(filepath.Join(cfg.Path, cfg.Filename),
		// Never by size: Output.write rotates (see Output.active).
		agentfile.MaxSizeBytes(math.MaxUint),
		agentfile.MaxBackups(cfg.NumberOfFiles-1),
		agentfile.Permissions(cfg.Permissions),
		agentfile.RotateOnStartup(cfg.RotateOnStartup),
	)
	if err != nil {
		return nil, fmt.Errorf("output.file %s: %w", filepath.Join(cfg.Path, cfg.Filename), err)
	}
	return &Output{cfg: cfg, c: c, log: log, maxSize: int(maxSize), rot: rot, started: time.Now(), written: map[string]bool{}}, nil
}

// Lost lists the files written by this output that rotation deleted.
func (o *Output) Lost() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.lost)
}

// checkRotation notes the set's files written since New and warns about
// any of them rotation deleted. One directory listing per chunk written.
func (o *Output) checkRotation() {
	present, err := o.listFiles()
	if err != nil {
		o.log.Warnf("output.file: listing %s to check rotation: %v", o.cfg.Path, err)
		return
	}
	for path, info := range present {
		if !o.written[path] && !info.ModTime().Before(o.started.Truncate(time.Second)) {
			o.written[path] = true
		}
	}
	for path := range o.written {
		if _, ok := present[path]; !ok {
			delete(o.written, path)
			o.lost = append(o.lost, path)
			o.log.Warnf("output.file: rotation deleted %s, written by this run: its documents are lost (raise output.file.number_of_files, now %d, or rotate_every_kb)",
				path, o.cfg.NumberOfFiles)
		}
	}
}

// Limits implements pipeline.Output; one writer keeps lines in order,
// in batches no larger than a writer needs.
func (o *Output) Limits() pipeline.Limits {
	return pipeline.Limits{MaxEvents: o.cfg.BatchSize, MaxBytes: pipeline.WriterBatchBytes, FlushInterval: o.cfg.FlushInterval, Workers: 1}
}

// Publish writes the batch and fsyncs it. A failed write is retried with
// backoff until ctx ends; lines of a batch written before the failure may
// then appear twice (files have no _id to deduplicate on).
func (o *Output) Publish(ctx context.Context, events []pipeline.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for attempt := 0; ; attempt++ {
		err := o.write(events)
		if err == nil {
			o.c.BatchesWritten.Add(1)
			o.log.Debugf("wrote and synced a batch of %d events to %s", len(events), o.filesWritten())
			return nil
		}
		o.log.Errorf("output.file: %v; retrying", err)
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("output.file: %d events unwritten: %w", len(events), err)
		}
	}
}

func (o *Output) write(events []pipeline.Event) error {
	// Lines are written in chunks of up to 64 KiB, and the file rotates
	// before a line that would take it over rotate_every_kb: no file
	// does, unless its one line is longer on its own.
	const chunk = 64 << 10
	o.buf = o.buf[:0]
	o.batchFiles = o.batchFiles[:0]
	if o.active == "" {
		if err := o.open(); err != nil {
			return err
		}
	}
	for i := range events {
		line := len(events[i].Body) + 1
		if used := o.size + len(o.buf); used > 0 && used+line > o.maxSize {
			if err := o.flush(); err != nil {
				return err
			}
			if err := o.rotate(); err != nil {
				return err
			}
		} else if len(o.buf) > 0 && len(o.buf)+line > chunk {
			if err := o.flush(); err != nil {
				return err
			}
		}
		o.buf = append(o.buf, events[i].Body...)
		o.buf = append(o.buf, '\n')
	}
	if err := o.flush(); err != nil {
		return err
	}
	return o.rot.Sync()
}

// flush writes the lines gathered in o.buf.
func (o *Output) flush() error {
	if len(o.buf) == 0 {
		return nil
	}
	err := o.put(o.buf)
	o.buf = o.buf[:0]
	return err
}

// rotate starts a new file.
func (o *Output) rotate() error {
	o.active, o.size = "", 0
	if err := o.rot.Rotate(); err != nil {
		return err
	}
	return o.open()
}

// open has the rotator open its file (a write of nothing) and finds which
// it is, and its size: the file the rotator created (at startup, or
// after a rotation), or else the one it appends to (rotate_on_startup:
// false), the set's last written, whose size is checked by the first
// write into it (put).
func (o *Output) open() error {
	before := o.files()
	if _, err := o.rot.Write(nil); err != nil {
		return err
	}
	var last os.FileInfo
	for path, fi := range o.files() {
		if _, ok := before[path]; !ok {
			o.active, o.size, o.check = path, int(fi.Size()), false
			return nil
		}
		if last == nil || fi.ModTime().After(last.ModTime()) || fi.ModTime().Equal(last.ModTime()) && laterName(path, o.active) {
			o.active, last = path, fi
		}
	}
	if last == nil {
		// Not to be told: the directory names it in messages.
		o.active, o.size, o.check = o.cfg.Path, 0, false
		return nil
	}
	o.size, o.check = int(last.Size()), true
	o.appended = before
	return nil
}

// laterName reports whether a is a later file of the set than b, both
// written at once: "-10.ndjson" after "-9.ndjson", after ".ndjson".
func laterName(a, b string) bool {
	return len(a) > len(b) || len(a) == len(b) && a > b
}

// put writes one chunk. Checking the files after each sees every file
// written before a rotation can delete it.
func (o *Output) put(chunk []byte) error {
	n, err := o.rot.Write(chunk)
	o.size += n
	if err != nil {
		return err
	}
	if o.check {
		o.checkAppended(n)
	}
	if len(o.batchFiles) == 0 || o.batchFiles[len(o.batchFiles)-1] != o.active {
		o.batchFiles = append(o.batchFiles, o.active)
	}
	o.checkRotation()
	return nil
}

// checkAppended, the first n bytes written into a file appended to,
// checks that it is the file open took it for (the one that grew by n),
// and corrects o.active and o.size if not.
func (o *Output) checkAppended(n int) {
	o.check = false
	for path, fi := range o.files() {
		if old, ok := o.appended[path]; ok && fi.Size() == old.Size()+int64(n) {
			o.active, o.size = path, int(fi.Size())
			break
		}
	}
	o.appended = nil
}

// files are the set's files, by path; none when the directory cannot be
// listed (then open and checkAppended leave the file unknown, and
// checkRotation says why).
func (o *Output) files() map[string]os.FileInfo {
	files, _ := o.listFiles()
	return files
}

// listFiles lists the set's files, by path.
func (o *Output) listFiles() (map[string]os.FileInfo, error) {
	entries, err := os.ReadDir(o.cfg.Path)
	if err != nil {
		return nil, err
	}
	files := map[string]os.FileInfo{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, o.cfg.Filename) || !strings.HasSuffix(name, ".ndjson") {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			files[filepath.Join(o.cfg.Path, name)] = fi
		}
	}
	return files, nil
}

// filesWritten names the files the last batch went to, for the debug log.
func (o *Output) filesWritten() string {
	switch f := o.batchFiles; len(f) {
	case 0:
		return o.cfg.Path
	case 1:
		return f[0]
	case 2:
		return f[0] + " and " + f[1]
	default:
		return fmt.Sprintf("%s to %s (%d files)", f[0], f[len(f)-1], len(f))
	}
}

// Close implements pipeline.Output.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rot.Close()
}

func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 6)
	d = min(d, time.Minute)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
