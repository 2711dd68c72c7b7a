package beater_test

import (
	"context"
	"os"
	"testing"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/output/console"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/winevent"
)

// BenchmarkDocumentPathConsole is BenchmarkDocumentPath's last stage as
// replay runs it: bodies with their newline (Arena.SetLine) through the
// pipeline to the console output, which batches by bytes
// (pipeline.WriterBatchBytes) and writes to the null device. Its batches
// hold about 230 documents where the discard output of
// BenchmarkDocumentPath takes 2048 (about 4.6 MB on the mixed file, more
// than a core's cache): the arena's memory is warm here and cold there,
// which is most of the difference between the two.
func BenchmarkDocumentPathConsole(b *testing.B) {
	recs := processRecords(b)
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	publishLoop(b, recs, console.New(null, console.DefaultConfig(), nil, nil), true)
}

// publishLoop maps, encodes into the pipeline's arena and publishes to out
// one record per op, as replay does: with line, each body followed by its
// newline (Arena.SetLine), for outputs that write NDJSON.
// BenchmarkDocumentPath's map+encode+pipeline is this loop without line.
func publishLoop(b *testing.B, recs []winevent.Record, out pipeline.Output, line bool) {
	m := mapping.New(tracker.New(tracker.Options{}), mapping.Options{})
	p := pipeline.New(context.Background(), out, nopCheckpoints{}, pipeline.Options{})
	c := p.Client("file:bench")
	a := p.Arena()
	var doc document.Document
	var off uint64
	docPathLoop(b, recs, func(rec *winevent.Record) bool {
		kind, ok := mapped(m, rec, &doc)
		if !ok {
			return false
		}
		off++
		ev := pipeline.Event{Index: m.Index(kind), ID: doc.Event.ID, Pos: pipeline.Position{Offset: off}}
		if line {
			a.SetLine(&ev, append(doc.AppendJSON(a.Room()), '\n'))
		} else {
			a.Set(&ev, doc.AppendJSON(a.Room()))
		}
		if err := c.Publish(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
		return true
	})
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
}
