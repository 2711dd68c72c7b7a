package evtx

import (
	"context"
	"io"
	"path/filepath"
	"testing"
)

// BenchmarkDump renders whole corpus files as procbeat evtx dump does;
// ns/record is the cost per record of reading and rendering together.
func BenchmarkDump(b *testing.B) {
	path := filepath.Join(corpusDir(b), "omerbenamram-evtx/samples/security.evtx")
	n, _, _ := readAll(b, path, Options{Workers: 1})
	for _, format := range []string{"json", "xml"} {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Dump(context.Background(), io.Discard, path, format); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/record")
		})
	}
}
