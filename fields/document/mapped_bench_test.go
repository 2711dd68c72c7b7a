package document_test

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/evtx"
	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/internal/cputime"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/testing/corpus"
)

// BenchmarkAppendJSONMapped is the encoder alone over real documents:
// those the mapper makes of PROCBEAT_BENCH_EVTX's process records (else of
// a Sysmon sample of the corpus), mapped once beforehand. One op is one
// document; cpu-ns/doc is CPU time per document, steadier than ns/op on a
// shared machine. beater's BenchmarkDocumentPath measures the same cost
// as map+encode minus map, with the caches the mapper leaves behind.
func BenchmarkAppendJSONMapped(b *testing.B) {
	encodeLoop(b, mappedDocuments(b))
}

// BenchmarkAppendJSONWarm is BenchmarkAppendJSONMapped over the first 64
// documents only, whose fields and strings stay in the cache, as in the
// document path, where the encoder reads what the mapper just wrote: the
// encoder's own work, without the cache misses of reading 100,000
// documents in turn.
func BenchmarkAppendJSONWarm(b *testing.B) {
	docs := mappedDocuments(b)
	encodeLoop(b, docs[:min(len(docs), 64)])
}

// encodeLoop encodes one of docs per op, in turn, into one buffer.
func encodeLoop(b *testing.B, docs []document.Document) {
	var buf []byte
	n := 0
	b.ReportAllocs()
	cpu0 := cputime.Process()
	for b.Loop() {
		buf = docs[n%len(docs)].AppendJSON(buf[:0])
		n++
	}
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(n), "cpu-ns/doc")
}

func mappedDocuments(b *testing.B) []document.Document {
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
	m := mapping.New(tracker.New(tracker.Options{}), mapping.Options{})
	var docs []document.Document
	for r.Next(context.Background()) && len(docs) < 100000 {
		var d document.Document
		if kind, err := m.Map(r.Record(), &d); err != nil || kind == mapping.None {
			continue
		}
		// The mapper's strings live in its arena, reused by the next
		// record: keep copies.
		cloneStrings(reflect.ValueOf(&d).Elem())
		docs = append(docs, d)
	}
	if err := r.Err(); err != nil {
		b.Fatal(err)
	}
	if len(docs) == 0 {
		b.Fatalf("%s: no process documents", path)
	}
	return docs
}

// cloneStrings replaces every exported string of v, in structs and
// slices, by a copy (reflection is fine in a benchmark's setup).
func cloneStrings(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(strings.Clone(v.String()))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				cloneStrings(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.IsNil() || !v.CanSet() {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		v.Set(c)
		for i := 0; i < c.Len(); i++ {
			cloneStrings(c.Index(i))
		}
	}
}
