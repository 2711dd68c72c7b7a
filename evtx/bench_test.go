package evtx

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	vevtx "www.velocidex.com/golang/evtx"

	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/winevent"
)

const benchRecords = 200000

// buildBenchFile writes, into dir, an EVTX file of at least benchRecords
// records made of the clean chunks (both checksums valid) of the corpus
// files that hold process events, repeated. Chunks are copied unchanged, so
// their checksums stay valid; record ids repeat from copy to copy.
func buildBenchFile(tb testing.TB, dir string) (string, int) {
	tb.Helper()
	cdir := corpus.Require(tb)
	type chunk struct {
		b []byte
		n int
	}
	var chunks []chunk
	opts := Options{}
	dec := newDecoder("bench", &opts)
	res := &chunkResult{}
	for _, e := range readManifest(tb, cdir) {
		if e.sysmon1+e.sysmon5+e.sysmon10+e.sec4688 == 0 {
			continue
		}
		data, err := os.ReadFile(filepath.Join(cdir, e.path))
		if err != nil {
			tb.Fatal(err)
		}
		for off := fileHeaderBlock; off+chunkSize <= len(data); off += chunkSize {
			b := data[off : off+chunkSize]
			if string(b[:8]) != chunkMagic {
				continue
			}
			dec.decodeChunk(0, 0, b, res)
			if len(res.errs) == 0 && res.n > 0 {
				chunks = append(chunks, chunk{b, res.n})
			}
		}
	}
	if len(chunks) == 0 {
		corpus.Skip(tb, "no clean corpus chunks")
	}
	var body []byte
	total, nchunks := 0, 0
	for total < benchRecords {
		for _, c := range chunks {
			body = append(body, c.b...)
			total += c.n
			nchunks++
		}
	}
	hdr := buildFile(nil, min(nchunks, 0xffff), 0)
	path := filepath.Join(dir, "bench.evtx")
	if err := os.WriteFile(path, append(hdr, body...), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path, total
}

func processFilter(p string, id uint16) bool {
	switch p {
	case winevent.ProviderSysmon:
		return id == 1 || id == 5 || id == 10
	case winevent.ProviderSecurity:
		return id == 4688 || id == 4689
	}
	return false
}

func BenchmarkReader(b *testing.B) {
	path, total := buildBenchFile(b, b.TempDir())
	for _, bc := range []struct {
		name   string
		filter func(string, uint16) bool
	}{{"all", nil}, {"process", processFilter}} {
		for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("%s/workers=%d", bc.name, workers), func(b *testing.B) {
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				kept := 0
				b.ResetTimer()
				start, cpu0 := time.Now(), processCPU()
				for i := 0; i < b.N; i++ {
					r, err := Open(path, Options{Workers: workers, Filter: bc.filter})
					if err != nil {
						b.Fatal(err)
					}
					kept = 0
					for r.Next(context.Background()) {
						kept++
					}
					st := r.Stats()
					r.Close()
					if st.Records+st.Filtered != total {
						b.Fatalf("scanned %d records, want %d", st.Records+st.Filtered, total)
					}
				}
				el, cpu := time.Since(start), processCPU()-cpu0
				b.StopTimer()
				runtime.ReadMemStats(&ms1)
				b.ReportMetric(float64(total)*float64(b.N)/el.Seconds(), "records/s")
				b.ReportMetric(float64(kept), "kept/op")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(total*b.N), "cpu-ns/record")
				b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(total*b.N), "allocs/record")
			})
		}
	}
}

func BenchmarkVelocidex(b *testing.B) {
	path, total := buildBenchFile(b, b.TempDir())
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	for i := 0; i < b.N; i++ {
		fd, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		chunks, err := vevtx.GetChunks(fd)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, c := range chunks {
			recs, _ := c.Parse(0)
			n += len(recs)
		}
		fd.Close()
		if n != total {
			b.Fatalf("Velocidex decoded %d records, want %d", n, total)
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(total*b.N), "cpu-ns/record")
}
