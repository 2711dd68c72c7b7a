// Package elasticsearch delivers events to Elasticsearch with bulk create
// actions, so replays and retries never index a document twice.
package elasticsearch

import (
	"fmt"
	"time"
)

// Config is the output's settings (output.elasticsearch.* in procbeat.yml);
// hosts, TLS and credentials belong to the client, built elsewhere.
type Config struct {
	BulkMaxSize   int           `config:"bulk_max_size"`  // documents per bulk request
	BulkMaxBytes  int           `config:"bulk_max_bytes"` // uncompressed bytes per bulk request
	FlushInterval time.Duration `config:"flush_interval"` // how long a partial batch may wait
	Workers       int           `config:"worker"`         // concurrent bulk requests
	// CompressionLevel is the gzip level of request bodies, 0 (off) to 9.
	// The client must not compress again (elasticsearch.Config
	// CompressRequestBody false).
	CompressionLevel int           `config:"compression_level"`
	Timeout          time.Duration `config:"timeout"` // per bulk request
	// Waits between retries grow from BackoffInit to BackoffMax. Nested in
	// YAML (backoff.init, backoff.max), which go-ucfg cannot express as a
	// tag on a flat field: the caller maps them (see beater).
	BackoffInit time.Duration `config:"-"`
	BackoffMax  time.Duration `config:"-"`
	// DeadLetterPath (dead_letter.path, mapped by the caller) is the NDJSON
	// file receiving permanently rejected documents; empty logs them and
	// drops them (still counted as failed).
	DeadLetterPath string `config:"-"`
	// DeadLetterMaxBytes caps the dead-letter file (0: no cap). Once a
	// write would pass it, rejected documents are no longer acknowledged:
	// the run ends with an error and they are sent again on resume.
	DeadLetterMaxBytes int64 `config:"-"`
}

// DefaultConfig has Beats' defaults where Beats has them.
func DefaultConfig() Config {
	return Config{
		BulkMaxSize:      1600,
		BulkMaxBytes:     10 << 20,
		FlushInterval:    time.Second,
		Workers:          2,
		CompressionLevel: 1,
		Timeout:          90 * time.Second,
		BackoffInit:      time.Second,
		BackoffMax:       60 * time.Second,
	}
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	switch {
	case c.BulkMaxSize <= 0:
		return fmt.Errorf("output.elasticsearch.bulk_max_size %d: must be positive", c.BulkMaxSize)
	case c.BulkMaxBytes <= 0:
		return fmt.Errorf("output.elasticsearch.bulk_max_bytes %d: must be positive", c.BulkMaxBytes)
	case c.FlushInterval <= 0:
		return fmt.Errorf("output.elasticsearch.flush_interval %s: must be positive", c.FlushInterval)
	case c.Workers <= 0:
		return fmt.Errorf("output.elasticsearch.worker %d: must be positive", c.Workers)
	case c.CompressionLevel < 0 || c.CompressionLevel > 9:
		return fmt.Errorf("output.elasticsearch.compression_level %d: must be 0 to 9", c.CompressionLevel)
	case c.Timeout <= 0:
		return fmt.Errorf("output.elasticsearch.timeout %s: must be positive", c.Timeout)
	case c.DeadLetterMaxBytes < 0:
		return fmt.Errorf("output.elasticsearch.dead_letter_max_bytes %d: must be 0 (no cap) or positive", c.DeadLetterMaxBytes)
	case c.BackoffInit <= 0 || c.BackoffMax < c.BackoffInit:
		return fmt.Errorf("output.elasticsearch.backoff init %s max %s: need 0 < init <= max", c.BackoffInit, c.BackoffMax)
	}
	return nil
}
