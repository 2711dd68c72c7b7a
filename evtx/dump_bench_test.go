package evtx

import (
	"context"
	"io"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/winevent"
)

// BenchmarkDump renders whole corpus files as procbeat evtx dump does;
// ns/record is the cost per record of reading and rendering together.
func BenchmarkDump(b *testing.B) {
	path := corpus.RequireFile(b, "omerbenamram-evtx/samples/security.evtx")
	n, _, _ := readAll(b, path, Options{Workers: 1})
	for _, format := range []string{"json", "xml"} {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				if err := Dump(context.Background(), io.Discard, path, format); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(n*b.N), "cpu-ns/record")
		})
	}
}

// BenchmarkRecordJSON is the JSON rendering of evtx dump alone, over the
// records of a corpus file decoded beforehand.
func BenchmarkRecordJSON(b *testing.B) {
	path := corpus.RequireFile(b, "omerbenamram-evtx/samples/security.evtx")
	r, err := Open(path, Options{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	var recs []winevent.Record
	for r.Next(context.Background()) {
		rec := *r.Record()
		rec.Data = append([]winevent.Data(nil), rec.Data...)
		recs = append(recs, rec)
	}
	r.Close()
	var out []byte
	size := 0
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		size = 0
		for i := range recs {
			out = appendRecordJSON(out[:0], &recs[i])
			size += len(out)
		}
	}
	b.SetBytes(int64(size))
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(len(recs)*b.N), "cpu-ns/record")
}
