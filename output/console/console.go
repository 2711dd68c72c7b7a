// Package console writes events as NDJSON to standard output (or any
// writer), acknowledging a batch once it is flushed to the writer.
package console

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/procbeat/procbeat/internal/fielderr"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
)

// Config is output.console.*.
type Config struct {
	BatchSize     int           `config:"batch_size"`
	FlushInterval time.Duration `config:"flush_interval"`
	// Pretty indents each document (output.console.pretty), for reading
	// by eye; it costs a pass over every document.
	Pretty bool `config:"pretty"`
}

// DefaultConfig batches like Beats' console output.
func DefaultConfig() Config {
	return Config{BatchSize: 2048, FlushInterval: time.Second}
}

// Validate reports settings that cannot work. Errors are *fielderr.Error
// with keys relative to the section.
func (c Config) Validate() error {
	var errs []error
	if c.BatchSize < 1 {
		errs = append(errs, fielderr.New("batch_size", "must be at least 1, got %d", c.BatchSize))
	}
	if c.FlushInterval <= 0 {
		errs = append(errs, fielderr.New("flush_interval", "must be positive, got %s", c.FlushInterval))
	}
	return errors.Join(errs...)
}

// Output implements pipeline.Output.
type Output struct {
	cfg   Config
	c     *monitoring.Counters
	log   monitoring.Logger
	retry time.Duration

	mu  sync.Mutex
	dst io.Writer
	w   *bufio.Writer
	// pretty is Pretty's reused indentation buffer.
	pretty bytes.Buffer
}

// New writes to w (os.Stdout in procbeat).
func New(w io.Writer, cfg Config, c *monitoring.Counters, log monitoring.Logger) *Output {
	if c == nil {
		c = &monitoring.Counters{}
	}
	if log == nil {
		log = monitoring.NopLogger{}
	}
	return &Output{cfg: cfg, c: c, log: log, retry: time.Second, dst: w, w: bufio.NewWriterSize(w, 64<<10)}
}

// Limits implements pipeline.Output; one writer keeps lines in order,
// in batches no larger than a writer needs.
func (o *Output) Limits() pipeline.Limits {
	return pipeline.Limits{MaxEvents: o.cfg.BatchSize, MaxBytes: pipeline.WriterBatchBytes, FlushInterval: o.cfg.FlushInterval, Workers: 1}
}

// Publish writes the batch and flushes it. A failed write (a closed pipe)
// is retried every second until ctx ends.
func (o *Output) Publish(ctx context.Context, events []pipeline.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		err := o.write(events)
		if err == nil {
			o.c.BatchesWritten.Add(1)
			o.log.Debugf("wrote a batch of %d events", len(events))
			return nil
		}
		o.log.Errorf("output.console: %v; retrying", err)
		t := time.NewTimer(o.retry)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("output.console: %d events unwritten: %w", len(events), ctx.Err())
		}
	}
}

func (o *Output) write(events []pipeline.Event) error {
	// bufio.Writer keeps its first error forever; start each attempt clean
	// (what a failed attempt left buffered is dropped and written anew).
	o.w.Reset(o.dst)
	if !o.cfg.Pretty {
		// Runs of bodies that lie one after the other in memory (the
		// pipeline's arena) are written whole, without a copy.
		if err := pipeline.WriteLines(o.w, events); err != nil {
			return err
		}
		return o.w.Flush()
	}
	for i := range events {
		body := events[i].Body
		// Bodies are our encoders' JSON; one that would not indent is
		// written as it is, since retrying the batch cannot change it.
		o.pretty.Reset()
		if json.Indent(&o.pretty, body, "", "  ") == nil {
			body = o.pretty.Bytes()
		}
		if _, err := o.w.Write(body); err != nil {
			return err
		}
		if err := o.w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return o.w.Flush()
}

// Close implements pipeline.Output.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.w.Flush()
}
