// Package file writes events as NDJSON to rotating files, acknowledging a
// batch only after it is written and fsynced.
package file

import (
	"context"
	"errors"
	"fmt"
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
		agentfile.MaxSizeBytes(maxSize),
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
	entries, err := os.ReadDir(o.cfg.Path)
	if err != nil {
		o.log.Warnf("output.file: listing %s to check rotation: %v", o.cfg.Path, err)
		return
	}
	present := make(map[string]bool, len(entries))
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, o.cfg.Filename) || !strings.HasSuffix(name, ".ndjson") {
			continue
		}
		path := filepath.Join(o.cfg.Path, name)
		present[path] = true
		if !o.written[path] {
			if info, err := e.Info(); err == nil && !info.ModTime().Before(o.started.Truncate(time.Second)) {
				o.written[path] = true
			}
		}
	}
	for path := range o.written {
		if !present[path] {
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
			o.log.Debugf("wrote and synced a batch of %d events to %s", len(events), o.cfg.Path)
			return nil
		}
		o.log.Errorf("output.file: %v; retrying", err)
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("output.file: %d events unwritten: %w", len(events), err)
		}
	}
}

func (o *Output) write(events []pipeline.Event) error {
	// Lines are gathered in chunks well under the rotation size; a rotation
	// never splits a chunk. The rotator (elastic-agent-libs v0.47.0) does
	// not count the first write into a fresh file, so a file may exceed
	// rotate_every_kb by up to one chunk: keep chunks to 1/16 of it.
	chunk := max(1, min(64<<10, o.maxSize/16))
	o.buf = o.buf[:0]
	for i := range events {
		ev := &events[i]
		if len(ev.Body)+1 > o.maxSize {
			// Cannot be written under this rotation size: say so, count
			// it, and let it pass so it does not block everything.
			o.c.EventsFailed.Add(1)
			o.log.Errorf("output.file: document id=%s index=%s is %d bytes, over rotate_every_kb; dropped", ev.ID, ev.Index, len(ev.Body))
			continue
		}
		if len(o.buf) > 0 && len(o.buf)+len(ev.Body)+1 > chunk {
			if err := o.put(o.buf); err != nil {
				return err
			}
			o.buf = o.buf[:0]
		}
		o.buf = append(o.buf, ev.Body...)
		o.buf = append(o.buf, '\n')
	}
	if len(o.buf) > 0 {
		if err := o.put(o.buf); err != nil {
			return err
		}
	}
	return o.rot.Sync()
}

// put writes one chunk. A chunk triggers at most one rotation, so checking
// after each sees every file before rotation can delete it.
func (o *Output) put(chunk []byte) error {
	if _, err := o.rot.Write(chunk); err != nil {
		return err
	}
	o.checkRotation()
	return nil
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
