package beater

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/procbeat/procbeat/module/process/source"
	esout "github.com/procbeat/procbeat/output/elasticsearch"
	"github.com/procbeat/procbeat/pipeline"
)

// A dead-letter file (output.elasticsearch's rejected documents) given to
// replay is shipped again as it is: its records are documents already, with
// their data stream and _id, so nothing is decoded or mapped again.
//
// It is recognised by its content (the marker key every record starts
// with, or the older layout; see esout.IsDeadLetter), whatever its name.
// Its checkpoint is the line number of the last acknowledged record, kept
// under an identity made of the path and a hash of the start of the first
// record: documents rejected again are appended to the same file and a
// later replay with --resume ships only those, while a new file at the same
// path (the old one moved away) is read from its start.

// deadLetterSniff is how much of a file decides whether it is a dead-letter
// file, and how much of its first record names it.
const deadLetterSniff = 4096

// deadLetterIdentity returns the file's checkpoint identity when path is a
// dead-letter file. It opens path as the sources do (source.OS): a FIFO or
// device is never opened, so never waited on.
func deadLetterIdentity(ctx context.Context, path string) (id string, ok bool, err error) {
	f, err := source.OS{}.Open(ctx, path)
	if err != nil {
		// Missing, unreadable or not a regular file: the source reports it.
		return "", false, nil
	}
	defer f.Close()
	head := make([]byte, deadLetterSniff)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("%s: %w", path, err)
	}
	head = head[:n]
	if !esout.IsDeadLetter(head) {
		return "", false, nil
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	sum := sha256.Sum256(head)
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = filepath.Clean(path)
	}
	return "dead-letter:" + abs + "#" + hex.EncodeToString(sum[:8]), true, nil
}

// replayDeadLetters ships the records of a dead-letter file again, after
// the file's checkpoint. Only the bytes present when it starts are read:
// documents rejected again during this run are appended to the file (it may
// be the output's own) and wait for the next replay.
func (b *Beater) replayDeadLetters(ctx context.Context, path, id string) error {
	if b.runner.codec == CodecCAR {
		return fmt.Errorf("%s: a dead-letter file holds Elasticsearch documents; --codec car does not apply to it", path)
	}
	f, err := source.OS{}.Open(ctx, path)
	if err != nil {
		b.runner.count(func(s *Summary) { s.fileFailed(path, ErrorOpen, err) })
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var after int64
	if b.reg != nil {
		if pos, ok := b.reg.Position(id); ok {
			after = int64(pos.Offset)
		}
	}
	b.runner.count(func(s *Summary) { s.Files++ })
	client := b.pipe.Client(id)
	r := esout.NewDeadLetterReader(bufio.NewReaderSize(io.LimitReader(f, st.Size()), 256<<10))
	var records, skipped, resent int64
	defer func() {
		b.counters.EventsRead.Add(uint64(records))
		b.runner.count(func(s *Summary) {
			s.Records += records
			s.Skipped += skipped
			s.Resent += resent
		})
	}()
	for r.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		records++
		if r.Line() <= after {
			skipped++
			continue
		}
		rec := r.Record()
		ev := pipeline.Event{Index: rec.Index, ID: rec.ID, Body: rec.Body(), Pos: pipeline.Position{Offset: uint64(r.Line())}}
		if err := client.Publish(ctx, ev); err != nil {
			return fmt.Errorf("%s: line %d: %w", path, r.Line(), err)
		}
		resent++
	}
	if err := r.Err(); err != nil {
		b.runner.count(func(s *Summary) { s.fileFailed(path, ErrorRead, err) })
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// replayPath replays one file of the command line: a dead-letter file as
// documents, anything else through the runner.
func (b *Beater) replayPath(ctx context.Context, path string) error {
	id, ok, err := deadLetterIdentity(ctx, path)
	if err != nil {
		b.runner.count(func(s *Summary) { s.fileFailed(path, ErrorOpen, err) })
		return err
	}
	if ok {
		return b.replayDeadLetters(ctx, path, id)
	}
	return b.runner.ReplayFile(ctx, path)
}

// AddDelivery completes a replay's summary, once Close has drained the
// pipeline, with what the output did: the documents it set aside in the
// dead-letter file.
func (b *Beater) AddDelivery(s *Summary) {
	s.DeadLettered = int64(b.counters.EventsDeadLettered.Load())
	s.DeadLetterPath = b.deadLetterPath
}
