// Package pipeline moves encoded documents from producers to an output
// with backpressure, and reports acknowledgements, in order per source, to
// a checkpoint store (the registry). Producers encode bodies into an
// Arena, whose memory the pipeline recycles once the output is done with
// each batch: no buffer, and no garbage, per document.
package pipeline

import (
	"context"
	"time"
)

// Event is one encoded document on its way to an output.
type Event struct {
	Index string   // data stream, e.g. logs-endpoint.events.process-default
	ID    string   // deterministic _id, so a replay never indexes twice
	Body  []byte   // the final JSON document; the pipeline never re-parses it
	Pos   Position // where the event came from, for checkpoints
	// chunk holds Body when an Arena placed it there; the pipeline gives
	// it back once the output is done with the event.
	chunk *chunk
	// newline says a '\n' follows Body in chunk (Arena.SetLine).
	newline bool
}

// Position locates an event in its source: the source's identity and, kept
// verbatim, the opaque position the source reported after the event
// (source.Position: Offset, Check, Bookmark). The pipeline and the registry
// never interpret them.
type Position struct {
	Source   string `json:"source"`             // source.Source.ID(): file identity, channel name, ...
	Offset   uint64 `json:"offset"`             // the source's own measure (byte offset, physical EVTX place, ...)
	Check    uint64 `json:"check,omitempty"`    // validates Offset against the source's content
	Bookmark string `json:"bookmark,omitempty"` // a live channel's bookmark
}

// Ticket identifies one published event to the checkpoint store.
type Ticket struct {
	Source string
	Seq    uint64
}

// Checkpoints records the publish order per source and advances a source's
// checkpoint only over acknowledged events. *registry.Registry implements it.
type Checkpoints interface {
	// Begin registers an event about to be queued; calls for one source
	// come in publish order.
	Begin(pos Position) Ticket
	// Done acknowledges events, in any order.
	Done(tickets []Ticket)
	// Flush persists the checkpoints if they changed.
	Flush() error
}

// Limits are an output's batching wishes.
type Limits struct {
	MaxEvents     int           // events per batch (bulk_max_size)
	MaxBytes      int           // encoded bytes per batch, before compression
	FlushInterval time.Duration // how long a partial batch may wait
	Workers       int           // batches delivered concurrently
}

// Output delivers batches.
type Output interface {
	// Limits tells the pipeline how to batch.
	Limits() Limits
	// Publish delivers every event of the batch. It returns nil only when
	// each event is done: stored, known to the destination already, or
	// permanently rejected and set aside (dead-lettered). Any other outcome
	// (ctx ended, output closed) is an error, and no event of the batch is
	// acknowledged; a later replay must be harmless (create with _id).
	// Publish must not keep events (or their Body) after it returns.
	Publish(ctx context.Context, events []Event) error
	// Close releases the output's resources.
	Close() error
}
