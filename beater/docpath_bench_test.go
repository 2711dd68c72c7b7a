package beater_test

import (
	"context"
	"os"
	"testing"

	"github.com/procbeat/procbeat/evtx"
	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/internal/cputime"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/output/console"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/winevent"
)

// BenchmarkDocumentPath is the per-document cost after the reader, the
// quantity issue 17 bounds (mapping plus encoding plus pipeline: 3 µs and
// 2 allocations per process document), stage by stage, over process
// records decoded beforehand. One op is one record; cpu-ns/doc is CPU time
// (user+sys) per document, steadier than ns/op on a shared machine.
//
// The records come from PROCBEAT_BENCH_EVTX when set (the file of
// tools/evtxbench), else from a Sysmon sample of the corpus.
func BenchmarkDocumentPath(b *testing.B) {
	recs := processRecords(b)
	b.Run("map", func(b *testing.B) {
		m := mapping.New(tracker.New(tracker.Options{}), mapping.Options{})
		var doc document.Document
		docPathLoop(b, recs, func(rec *winevent.Record) bool {
			_, ok := mapped(m, rec, &doc)
			return ok
		})
	})
	b.Run("map+encode", func(b *testing.B) {
		m := mapping.New(tracker.New(tracker.Options{}), mapping.Options{})
		var doc document.Document
		var buf []byte
		docPathLoop(b, recs, func(rec *winevent.Record) bool {
			if _, ok := mapped(m, rec, &doc); !ok {
				return false
			}
			buf = doc.AppendJSON(buf[:0])
			return true
		})
	})
	// A body buffer per document, as replay allocated it before the
	// pipeline's arena, without the pipeline: what the allocation and its
	// garbage cost alone.
	b.Run("map+encode+body", func(b *testing.B) {
		m := mapping.New(tracker.New(tracker.Options{}), mapping.Options{})
		var doc document.Document
		var last []byte
		docPathLoop(b, recs, func(rec *winevent.Record) bool {
			if _, ok := mapped(m, rec, &doc); !ok {
				return false
			}
			last = doc.AppendJSON(make([]byte, 0, 2048))
			return len(last) > 0
		})
	})
	// The body encoded into the pipeline's arena (recycled once the
	// output is done with it), published to an output that accepts every
	// batch at once, 2048 documents a batch (about 4.6 MB on the mixed
	// file: more than a core's cache, so the arena is written cold).
	b.Run("map+encode+pipeline", func(b *testing.B) {
		publishLoop(b, recs, discardOutput{}, false)
	})
	// As replay runs it: bodies with their newline (Arena.SetLine) through
	// the pipeline to the console output, which batches by bytes
	// (pipeline.WriterBatchBytes, about 230 documents) and writes them to
	// the null device.
	b.Run("map+encode+console", func(b *testing.B) {
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer null.Close()
		publishLoop(b, recs, console.New(null, console.DefaultConfig(), nil, nil), true)
	})
}

// mapped maps rec into doc and reports whether it gave a document.
func mapped(m *mapping.Mapper, rec *winevent.Record, doc *document.Document) (mapping.Kind, bool) {
	kind, err := m.Map(rec, doc)
	return kind, err == nil && kind != mapping.None
}

// docPathLoop runs one record per op, cycling through recs, and reports
// CPU time per document.
func docPathLoop(b *testing.B, recs []winevent.Record, op func(*winevent.Record) bool) {
	b.ReportAllocs()
	docs := 0
	cpu0 := cputime.Process()
	i := 0
	for b.Loop() {
		if op(&recs[i]) {
			docs++
		}
		if i++; i == len(recs) {
			i = 0
		}
	}
	if docs > 0 {
		b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(docs), "cpu-ns/doc")
	}
}

func processRecords(b *testing.B) []winevent.Record {
	b.Helper()
	path := os.Getenv("PROCBEAT_BENCH_EVTX")
	if path == "" {
		path = corpus.RequireFile(b, "omerbenamram-evtx/samples/sysmon.evtx")
	}
	r, err := evtx.Open(path, evtx.Options{Workers: 1, Filter: mapping.Wants})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var recs []winevent.Record
	for r.Next(context.Background()) && len(recs) < 200000 {
		rec := *r.Record()
		rec.Data = append([]winevent.Data(nil), rec.Data...)
		recs = append(recs, rec)
	}
	if err := r.Err(); err != nil {
		b.Fatal(err)
	}
	if len(recs) == 0 {
		b.Fatalf("%s: no process records", path)
	}
	return recs
}

type discardOutput struct{}

func (discardOutput) Limits() pipeline.Limits                         { return pipeline.Limits{MaxEvents: 2048} }
func (discardOutput) Close() error                                    { return nil }
func (discardOutput) Publish(context.Context, []pipeline.Event) error { return nil }

type nopCheckpoints struct{}

func (nopCheckpoints) Begin(pos pipeline.Position) pipeline.Ticket {
	return pipeline.Ticket{Source: pos.Source}
}
func (nopCheckpoints) Done([]pipeline.Ticket) {}
func (nopCheckpoints) Flush() error           { return nil }

// publishLoop maps, encodes into the pipeline's arena and publishes to out
// one record per op, as replay does: with line, each body followed by its
// newline (Arena.SetLine), for outputs that write NDJSON.
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
