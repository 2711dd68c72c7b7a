// Package monitoring holds procbeat's delivery counters, a periodic logger
// of their deltas and an optional HTTP endpoint serving them as JSON.
//
// Counters are plain atomic fields in a struct that the caller creates and
// passes to every component; there is no package-level registry.
package monitoring

import "sync/atomic"

// Counters are the pipeline's delivery statistics. The zero value is ready
// to use; all fields may be updated concurrently.
type Counters struct {
	EventsRead         atomic.Uint64 // records read by the sources (incremented by the caller)
	EventsPublished    atomic.Uint64 // events accepted by Publish
	EventsAcked        atomic.Uint64 // events delivered (or dead-lettered) and acknowledged
	EventsDuplicate    atomic.Uint64 // events Elasticsearch already had (409 on create), counted in EventsAcked
	EventsFailed       atomic.Uint64 // events rejected permanently, counted in EventsAcked
	EventsDeadLettered atomic.Uint64 // permanently rejected events written to the dead-letter file
	EventsRetried      atomic.Uint64 // event send attempts beyond the first
	QueueDepth         atomic.Int64  // events published and not yet acknowledged
	BytesInFlight      atomic.Int64  // bytes held by the in-flight budget

	BulkRequests       atomic.Uint64 // bulk requests sent
	BulkRequestsFailed atomic.Uint64 // whole bulk requests that failed (transport error or non-2xx)
	BulkBytesSent      atomic.Uint64 // request body bytes sent (after compression)

	BatchesWritten atomic.Uint64 // batches written by the file and console outputs

	RegistryWrites atomic.Uint64 // registry files written
	RegistryErrors atomic.Uint64 // registry writes that failed

	EventLogGaps    atomic.Uint64 // live channels resumed from their oldest record because the bookmark was gone
	EventLogReopens atomic.Uint64 // live channel subscriptions reopened after an error
}

// Snapshot is a point-in-time copy of Counters, for JSON and logging.
type Snapshot struct {
	EventsRead         uint64 `json:"events_read"`
	EventsPublished    uint64 `json:"events_published"`
	EventsAcked        uint64 `json:"events_acked"`
	EventsDuplicate    uint64 `json:"events_duplicate"`
	EventsFailed       uint64 `json:"events_failed"`
	EventsDeadLettered uint64 `json:"events_dead_lettered"`
	EventsRetried      uint64 `json:"events_retried"`
	QueueDepth         int64  `json:"queue_depth"`
	BytesInFlight      int64  `json:"bytes_in_flight"`
	BulkRequests       uint64 `json:"bulk_requests"`
	BulkRequestsFailed uint64 `json:"bulk_requests_failed"`
	BulkBytesSent      uint64 `json:"bulk_bytes_sent"`
	BatchesWritten     uint64 `json:"batches_written"`
	RegistryWrites     uint64 `json:"registry_writes"`
	RegistryErrors     uint64 `json:"registry_errors"`
	EventLogGaps       uint64 `json:"eventlog_gaps"`
	EventLogReopens    uint64 `json:"eventlog_reopens"`
}

// Snapshot reads every counter. Reads are individually atomic, not as a
// set, but in an order that keeps the snapshot consistent while events
// flow: an event is counted published before it can be acknowledged, and
// acknowledgements are read first, so a snapshot never shows more events
// acknowledged than published. (Elements of a composite literal are
// evaluated in source order.)
func (c *Counters) Snapshot() Snapshot {
	return Snapshot{
		EventsDeadLettered: c.EventsDeadLettered.Load(),
		EventsFailed:       c.EventsFailed.Load(),
		EventsDuplicate:    c.EventsDuplicate.Load(),
		EventsAcked:        c.EventsAcked.Load(),
		QueueDepth:         c.QueueDepth.Load(),
		EventsPublished:    c.EventsPublished.Load(),
		EventsRead:         c.EventsRead.Load(),
		EventsRetried:      c.EventsRetried.Load(),
		BytesInFlight:      c.BytesInFlight.Load(),
		BulkRequests:       c.BulkRequests.Load(),
		BulkRequestsFailed: c.BulkRequestsFailed.Load(),
		BulkBytesSent:      c.BulkBytesSent.Load(),
		BatchesWritten:     c.BatchesWritten.Load(),
		RegistryWrites:     c.RegistryWrites.Load(),
		RegistryErrors:     c.RegistryErrors.Load(),
		EventLogGaps:       c.EventLogGaps.Load(),
		EventLogReopens:    c.EventLogReopens.Load(),
	}
}

// Field is one named value of a snapshot.
type Field struct {
	Name  string
	Value int64
	Gauge bool // a current level rather than a running total
}

// Fields lists the snapshot's values by name, in a fixed order. Gauges
// (queue depth, bytes in flight) are reported as values, counters as totals.
func (s Snapshot) Fields() []Field {
	return []Field{
		{"events_read", int64(s.EventsRead), false},
		{"events_published", int64(s.EventsPublished), false},
		{"events_acked", int64(s.EventsAcked), false},
		{"events_duplicate", int64(s.EventsDuplicate), false},
		{"events_failed", int64(s.EventsFailed), false},
		{"events_dead_lettered", int64(s.EventsDeadLettered), false},
		{"events_retried", int64(s.EventsRetried), false},
		{"queue_depth", s.QueueDepth, true},
		{"bytes_in_flight", s.BytesInFlight, true},
		{"bulk_requests", int64(s.BulkRequests), false},
		{"bulk_requests_failed", int64(s.BulkRequestsFailed), false},
		{"bulk_bytes_sent", int64(s.BulkBytesSent), false},
		{"batches_written", int64(s.BatchesWritten), false},
		{"registry_writes", int64(s.RegistryWrites), false},
		{"registry_errors", int64(s.RegistryErrors), false},
		{"eventlog_gaps", int64(s.EventLogGaps), false},
		{"eventlog_reopens", int64(s.EventLogReopens), false},
	}
}
