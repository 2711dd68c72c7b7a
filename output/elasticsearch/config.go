// Package elasticsearch delivers events to Elasticsearch with bulk create
// actions, so replays and retries never index a document twice.
package elasticsearch

import (
	"errors"
	"time"

	"github.com/procbeat/procbeat/esclient"
	"github.com/procbeat/procbeat/internal/fielderr"
	"github.com/procbeat/procbeat/pipeline"
)

// Config is the output.elasticsearch section: the connection to the
// cluster (esclient.Config: hosts, credentials, TLS, timeout, compression),
// inline so that every setting the client gains is a key of the section,
// and how documents are delivered over it. It is the only description of
// the section: procbeat.yml and Elastic Agent's output unit unpack into it
// (go-ucfg or the config package), and its defaults are DefaultConfig's.
type Config struct {
	esclient.Config `config:",inline"`
	// BulkMaxSize is documents per bulk request.
	BulkMaxSize int `config:"bulk_max_size"`
	// BulkMaxBytes is uncompressed bytes per bulk request.
	BulkMaxBytes int `config:"bulk_max_bytes"`
	// FlushInterval is how long a partial batch may wait.
	FlushInterval time.Duration `config:"flush_interval"`
	// Workers is how many bulk requests are in flight at once.
	Workers int `config:"worker"`
	// Backoff bounds the waits between retries.
	Backoff Backoff `config:"backoff"`
	// MaxBytesInFlight bounds the encoded bytes waiting for
	// acknowledgement: the pipeline's budget while this output is on.
	MaxBytesInFlight int `config:"max_bytes_in_flight"`
	// DeadLetterPath is the NDJSON file receiving permanently rejected
	// documents; empty logs them and drops them (still counted as failed).
	// procbeat puts it in path.data when the setting is empty.
	DeadLetterPath string `config:"dead_letter_path"`
	// DeadLetterMaxBytes caps the dead-letter file (0: no cap). Once a
	// write would pass it, rejected documents are no longer acknowledged:
	// the run ends with an error and they are sent again on resume.
	DeadLetterMaxBytes int64 `config:"dead_letter_max_bytes"`
}

// Backoff is backoff.*: waits between retries grow from Init to Max.
type Backoff struct {
	Init time.Duration `config:"init"`
	Max  time.Duration `config:"max"`
}

// DefaultConfig has Beats' defaults where Beats has them; the connection's
// are esclient.DefaultConfig's.
func DefaultConfig() Config {
	return Config{
		Config:           esclient.DefaultConfig(),
		BulkMaxSize:      1600,
		BulkMaxBytes:     10 << 20,
		FlushInterval:    time.Second,
		Workers:          2,
		Backoff:          Backoff{Init: time.Second, Max: 60 * time.Second},
		MaxBytesInFlight: pipeline.DefaultMaxBytesInFlight,
		// Enough for a whole replay rejected by a broken template, small
		// enough not to fill a disk unnoticed.
		DeadLetterMaxBytes: 1 << 30,
	}
}

// Validate reports settings that cannot work, the connection's included.
// Errors are *fielderr.Error with keys relative to the section.
func (c Config) Validate() error {
	errs := []error{c.Config.Validate()}
	bad := func(key, format string, args ...any) { errs = append(errs, fielderr.New(key, format, args...)) }
	if c.BulkMaxSize <= 0 {
		bad("bulk_max_size", "%d: must be positive", c.BulkMaxSize)
	}
	if c.BulkMaxBytes <= 0 {
		bad("bulk_max_bytes", "%d: must be positive", c.BulkMaxBytes)
	}
	if c.FlushInterval <= 0 {
		bad("flush_interval", "%s: must be positive", c.FlushInterval)
	}
	if c.Workers <= 0 {
		bad("worker", "%d: must be positive", c.Workers)
	}
	if c.Backoff.Init <= 0 {
		bad("backoff.init", "%s: must be positive", c.Backoff.Init)
	}
	if c.Backoff.Max < c.Backoff.Init {
		bad("backoff.max", "%s: must be at least backoff.init (%s)", c.Backoff.Max, c.Backoff.Init)
	}
	// Below a bulk request's worth, readers would wait on every batch.
	if c.MaxBytesInFlight < 1<<20 {
		bad("max_bytes_in_flight", "must be at least 1 MiB, got %d", c.MaxBytesInFlight)
	}
	if c.DeadLetterMaxBytes < 0 {
		bad("dead_letter_max_bytes", "%d: must be 0 (no cap) or positive", c.DeadLetterMaxBytes)
	}
	return errors.Join(errs...)
}

// ClientConfig is the connection's settings for the client: as set, but
// without request compression, since the output compresses bulk bodies
// itself (CompressionLevel) and the client must not compress them again.
func (c Config) ClientConfig() esclient.Config {
	cc := c.Config
	cc.CompressionLevel = 0
	return cc
}
