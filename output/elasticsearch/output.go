package elasticsearch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
)

// Output implements pipeline.Output for Elasticsearch.
type Output struct {
	tr  Transport
	cfg Config
	c   *monitoring.Counters
	log monitoring.Logger
	dlq *deadLetter
	now func() time.Time
	// full is set once the dead-letter file reached its cap; Close reports
	// it, since the events concerned were left unacknowledged.
	fullErr error
	fullMu  sync.Mutex

	encoders sync.Pool // *encoder
}

// New builds the output on an already configured client: an
// *esclient.Client (or any Transport; see TransportFunc). The
// client's own retries may stay on; every action is a create with an _id,
// so a resent request is harmless.
func New(tr Transport, cfg Config, c *monitoring.Counters, log monitoring.Logger) (*Output, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tr == nil {
		return nil, errors.New("output.elasticsearch: no client")
	}
	if c == nil {
		c = &monitoring.Counters{}
	}
	if log == nil {
		log = monitoring.NopLogger{}
	}
	o := &Output{tr: tr, cfg: cfg, c: c, log: log, now: time.Now}
	if cfg.DeadLetterPath != "" {
		d, err := openDeadLetter(cfg.DeadLetterPath, cfg.DeadLetterMaxBytes)
		if err != nil {
			return nil, fmt.Errorf("output.elasticsearch: %w", err)
		}
		o.dlq = d
	}
	o.encoders.New = func() any { return newEncoder(cfg.CompressionLevel) }
	return o, nil
}

// TransportFunc adapts a function to Transport.
type TransportFunc func(*http.Request) (*http.Response, error)

// Perform implements Transport.
func (f TransportFunc) Perform(r *http.Request) (*http.Response, error) { return f(r) }

// Limits implements pipeline.Output.
func (o *Output) Limits() pipeline.Limits {
	return pipeline.Limits{
		MaxEvents:     o.cfg.BulkMaxSize,
		MaxBytes:      o.cfg.BulkMaxBytes,
		FlushInterval: o.cfg.FlushInterval,
		Workers:       o.cfg.Workers,
	}
}

// Close implements pipeline.Output.
func (o *Output) Close() error {
	var err error
	if o.dlq != nil {
		err = o.dlq.close()
	}
	o.fullMu.Lock()
	full := o.fullErr
	o.fullMu.Unlock()
	if full != nil {
		err = errors.Join(fmt.Errorf("%w; the documents rejected since were not acknowledged and are sent again by the next run with --resume: ship the file with `procbeat replay %s`, move it away, then resume", full, o.dlq.path), err)
	}
	return err
}

// sendError classifies a failed bulk request.
type sendError struct {
	status int // 0 for transport or response errors
	err    error
}

func (e *sendError) Error() string {
	if e.status != 0 {
		return fmt.Sprintf("bulk request: HTTP %d: %v", e.status, e.err)
	}
	return "bulk request: " + e.err.Error()
}

func (e *sendError) Unwrap() error { return e.err }

// Publish implements pipeline.Output: it returns nil once every event is
// stored (201), already stored (409), or permanently rejected and
// dead-lettered. Retryable failures (transport errors, 429, 5xx, whole or
// per item) are retried with exponential backoff and jitter, resending only
// the events still pending; it gives up only when ctx ends.
func (o *Output) Publish(ctx context.Context, events []pipeline.Event) error {
	enc := o.encoders.Get().(*encoder)
	defer o.encoders.Put(enc)

	pending := make([]int, 0, len(events))
	var dead []rejection
	for i := range events {
		if bytes.IndexByte(events[i].Body, '\n') >= 0 {
			// A raw newline would break the NDJSON body for the whole batch.
			dead = append(dead, rejection{idx: i, status: 0, err: itemError{
				Type: "invalid_document", Reason: "document contains a raw newline; bulk bodies are NDJSON"}})
			continue
		}
		pending = append(pending, i)
	}

	var (
		attempt  int
		chunk    = len(pending) // shrinks on 413 Request Entity Too Large
		results  []itemResult
		retryBuf = make([]int, 0, len(pending))
	)
	for len(pending) > 0 {
		if attempt > 0 {
			wait := o.backoff(attempt)
			o.log.Debugf("retrying %d documents in %s (attempt %d)", min(chunk, len(pending)), wait, attempt+1)
			if err := sleepCtx(ctx, wait); err != nil {
				return fmt.Errorf("bulk: %d events undelivered: %w", len(pending), err)
			}
			o.c.EventsRetried.Add(uint64(min(chunk, len(pending))))
		}
		send := pending[:min(chunk, len(pending))]
		var (
			allOK bool
			err   error
		)
		results, allOK, err = o.send(ctx, enc, events, send, results)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("bulk: %d events undelivered: %w", len(pending), ctx.Err())
			}
			var se *sendError
			if errors.As(err, &se) && se.status == http.StatusRequestEntityTooLarge {
				if len(send) == 1 {
					dead = append(dead, rejection{idx: send[0], status: se.status, err: itemError{
						Type: "request_entity_too_large", Reason: "document alone exceeds the server's request size limit"}})
					pending = pending[1:]
					continue
				}
				chunk = max(1, len(send)/2)
				o.log.Warnf("bulk request of %d documents too large; retrying in halves", len(send))
				continue
			}
			attempt++
			o.logSendError(err, len(send), attempt)
			continue
		}
		retry := retryBuf[:0]
		for j, idx := range send {
			if allOK {
				break // "errors":false: every item was created
			}
			r := results[j]
			switch {
			case r.Status >= 200 && r.Status < 300:
			case r.Status == http.StatusConflict:
				o.c.EventsDuplicate.Add(1)
			case r.Status == http.StatusTooManyRequests || r.Status >= 500:
				retry = append(retry, idx)
			case blocked(r):
				// An index or cluster block is lifted by an operator (or by
				// freeing disk): wait for it as for a 429.
				retry = append(retry, idx)
				if len(retry) == 1 {
					o.log.Warnf("%s is blocked (status %d %s: %s); retrying until the block is lifted",
						events[idx].Index, r.Status, r.Error.Type, r.Error.Reason)
				}
			default:
				rj := rejection{idx: idx, status: r.Status}
				if r.Error != nil {
					rj.err = *r.Error
				}
				dead = append(dead, rj)
			}
		}
		rest := pending[len(send):]
		o.log.Debugf("bulk request of %d documents answered: %d to retry, %d rejected in this batch so far", len(send), len(retry), len(dead))
		if len(retry) > 0 {
			// Some items must wait: back off, but less after progress.
			if len(retry) < len(send) {
				attempt = 1
			} else {
				attempt++
			}
			retry = append(retry, rest...)
			pending, retryBuf = retry, pending[:0]
		} else {
			pending = rest
			attempt = 0
		}
	}
	if len(dead) > 0 {
		if err := o.reject(ctx, events, dead); err != nil {
			return err
		}
	}
	return nil
}

// send encodes events[idx...] into one bulk request and reads the answer.
func (o *Output) send(ctx context.Context, enc *encoder, events []pipeline.Event, idx []int, results []itemResult) ([]itemResult, bool, error) {
	body, err := enc.encode(events, idx)
	if err != nil {
		return results, false, err
	}
	rctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, "/_bulk?filter_path="+filterPath, bytes.NewReader(body))
	if err != nil {
		return results, false, &sendError{err: err}
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if o.cfg.CompressionLevel > 0 {
		req.Header.Set("Content-Encoding", "gzip")
	}
	o.c.BulkRequests.Add(1)
	o.c.BulkBytesSent.Add(uint64(len(body)))
	res, err := o.tr.Perform(req)
	if err != nil {
		o.c.BulkRequestsFailed.Add(1)
		return results, false, &sendError{err: err}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
	}()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		o.c.BulkRequestsFailed.Add(1)
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return results, false, &sendError{status: res.StatusCode, err: fmt.Errorf("%s", bytes.TrimSpace(msg))}
	}
	results, allOK, err := parseBulkResponse(res.Body, len(idx), results)
	if err != nil {
		o.c.BulkRequestsFailed.Add(1)
		return results, false, &sendError{err: err}
	}
	return results, allOK, nil
}

func (o *Output) logSendError(err error, n, attempt int) {
	var se *sendError
	if errors.As(err, &se) && se.status >= 400 && se.status < 500 && se.status != http.StatusTooManyRequests &&
		!strings.Contains(se.err.Error(), blockException) {
		// Not transient by nature (auth, missing privileges): say so loudly,
		// but keep retrying rather than dropping data.
		o.log.Errorf("%v (%d documents, attempt %d); retrying - check credentials and privileges", err, n, attempt)
		return
	}
	o.log.Warnf("%v (%d documents, attempt %d); retrying", err, n, attempt)
}

// reject records permanently failed events, retrying the dead-letter write
// until it succeeds or ctx ends: an event is acknowledged only once it is
// either in Elasticsearch or in the dead-letter file.
func (o *Output) reject(ctx context.Context, events []pipeline.Event, dead []rejection) error {
	if o.dlq == nil {
		o.c.EventsFailed.Add(uint64(len(dead)))
		for _, d := range dead {
			ev := &events[d.idx]
			o.log.Errorf("dropping document index=%s id=%s: status %d %s: %s (no dead_letter.path configured)",
				ev.Index, ev.ID, d.status, d.err.Type, d.err.Reason)
		}
		return nil
	}
	now := o.now()
	recs := make([]DeadLetterRecord, len(dead))
	for i, d := range dead {
		ev := &events[d.idx]
		recs[i] = newRecord(now, ev.Index, ev.ID, ev.Body, d)
	}
	for attempt := 1; ; attempt++ {
		err := o.dlq.write(recs)
		if errors.Is(err, ErrDeadLetterFull) {
			o.fullMu.Lock()
			first := o.fullErr == nil
			if first {
				o.fullErr = err
			}
			o.fullMu.Unlock()
			if first {
				o.log.Errorf("%v: rejected documents are no longer acknowledged; this run ends with an error and they are sent again on resume", err)
			}
			return err
		}
		if err == nil {
			o.c.EventsFailed.Add(uint64(len(dead)))
			o.c.EventsDeadLettered.Add(uint64(len(dead)))
			for _, r := range recs {
				o.log.Debugf("dead letter: index=%s id=%s status %d %s: %s", r.Index, r.ID, r.Status, r.Error.Type, r.Error.Reason)
			}
			o.log.Warnf("%d documents rejected permanently, written to %s (first: id=%s status %d %s: %s)",
				len(dead), o.dlq.path, recs[0].ID, recs[0].Status, recs[0].Error.Type, recs[0].Error.Reason)
			return nil
		}
		o.log.Errorf("%v; retrying", err)
		if err := sleepCtx(ctx, o.backoff(attempt)); err != nil {
			return fmt.Errorf("dead-lettering %d documents: %w", len(dead), err)
		}
	}
}

// backoff is exponential from Backoff.Init to Backoff.Max, with "equal
// jitter" (half fixed, half random) so that workers do not retry in step.
func (o *Output) backoff(attempt int) time.Duration {
	d := o.cfg.Backoff.Init
	for i := 1; i < attempt && d < o.cfg.Backoff.Max; i++ {
		d *= 2
	}
	d = min(d, o.cfg.Backoff.Max)
	half := d / 2
	return half + rand.N(half+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// blockException is Elasticsearch's error type for writes refused by an
// index or cluster block (index.blocks.write, read_only_allow_delete after
// the flood-stage disk watermark, a cluster-wide block).
const blockException = "cluster_block_exception"

// blocked reports an item refused by a block, which clears when the block
// is lifted: never a reason to set the document aside.
func blocked(r itemResult) bool {
	if r.Error == nil {
		return false
	}
	for e := r.Error; e != nil; e = e.CausedBy {
		if e.Type == blockException || strings.Contains(e.Reason, "read_only_allow_delete") || strings.Contains(e.Reason, "read-only-allow-delete") {
			return true
		}
	}
	return false
}
