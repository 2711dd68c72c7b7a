package evtx

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// corpusChunk is one clean corpus chunk and the records it holds.
type corpusChunk struct {
	b []byte
	n int
}

// processChunks returns the clean chunks (both checksums valid, decoded
// without error) of the corpus files that hold process events, in manifest
// order. It skips the test when the corpus is absent.
func processChunks(tb testing.TB) []corpusChunk { return corpusChunks(tb, false) }

// corpusChunks returns the clean chunks of the corpus files that hold
// process events or, with all, of every corpus EVTX file: a mixed file
// where process events are a minority, as in a host's whole collection.
func corpusChunks(tb testing.TB, all bool) []corpusChunk {
	tb.Helper()
	corpus := corpusDir(tb)
	opts := Options{}
	dec := newDecoder("corpus", &opts)
	res := &chunkResult{}
	var chunks []corpusChunk
	for _, e := range readManifest(tb, corpus) {
		if !all && e.sysmon1+e.sysmon5+e.sysmon10+e.sec4688 == 0 {
			continue
		}
		data, err := os.ReadFile(filepath.Join(corpus, e.path))
		if err != nil {
			tb.Fatal(err)
		}
		for off := fileHeaderBlock; off+chunkSize <= len(data); off += chunkSize {
			b := data[off : off+chunkSize]
			if string(b[:8]) != chunkMagic {
				continue
			}
			dec.decodeChunk(0, 0, b, res)
			if len(res.errs) == 0 && res.stats.ChecksumErrors == 0 && res.n > 0 {
				chunks = append(chunks, corpusChunk{b, res.n})
			}
		}
	}
	if len(chunks) == 0 {
		tb.Skip("no clean corpus chunks")
	}
	return chunks
}

// writeCorpusEVTX streams to path an EVTX file made of the clean process
// chunks of the corpus, repeated (unchanged, so checksums stay valid and
// record ids repeat from copy to copy) until the file holds at least
// minRecords records and minBytes bytes. It returns the record and chunk
// counts. The file is written chunk by chunk, so a 1 GB file costs no more
// memory than the corpus chunks themselves.
func writeCorpusEVTX(tb testing.TB, path string, minRecords int, minBytes int64, all bool) (records, chunks int) {
	tb.Helper()
	src := corpusChunks(tb, all)
	// Count first: the header declares the chunk count.
	size := int64(fileHeaderBlock)
	for records < minRecords || size < minBytes {
		c := src[chunks%len(src)]
		records += c.n
		size += chunkSize
		chunks++
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	werr := func(err error) {
		f.Close()
		tb.Fatalf("writing %s: %v", path, err)
	}
	if _, err := w.Write(buildFile(nil, min(chunks, 0xffff), 0)); err != nil {
		werr(err)
	}
	for i := 0; i < chunks; i++ {
		if _, err := w.Write(src[i%len(src)].b); err != nil {
			werr(err)
		}
	}
	if err := w.Flush(); err != nil {
		werr(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatalf("closing %s: %v", path, err)
	}
	return records, chunks
}

// TestWriteBenchFile writes the benchmark input to the path in
// PROCBEAT_EVTX_BENCH_OUT, for tools/evtxbench (comparison with other
// parsers, RSS of the replay path). PROCBEAT_EVTX_BENCH_RECORDS (default
// 200000) and PROCBEAT_EVTX_BENCH_BYTES (default 0) set the minimum size;
// PROCBEAT_EVTX_BENCH_MIX=all takes the chunks of every corpus file instead
// of only those holding process events.
// It prints "records=N chunks=N bytes=N" on stdout.
func TestWriteBenchFile(t *testing.T) {
	out := os.Getenv("PROCBEAT_EVTX_BENCH_OUT")
	if out == "" {
		t.Skip("set PROCBEAT_EVTX_BENCH_OUT=path to write the benchmark file")
	}
	minRecords, minBytes := benchRecords, int64(0)
	if v := os.Getenv("PROCBEAT_EVTX_BENCH_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("PROCBEAT_EVTX_BENCH_RECORDS: %v", err)
		}
		minRecords = n
	}
	if v := os.Getenv("PROCBEAT_EVTX_BENCH_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("PROCBEAT_EVTX_BENCH_BYTES: %v", err)
		}
		minBytes = n
	}
	all := false
	switch v := os.Getenv("PROCBEAT_EVTX_BENCH_MIX"); v {
	case "", "process":
	case "all":
		all = true
	default:
		t.Fatalf("PROCBEAT_EVTX_BENCH_MIX=%q: want process or all", v)
	}
	records, chunks := writeCorpusEVTX(t, out, minRecords, minBytes, all)
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(fileHeaderBlock) + int64(chunks)*chunkSize; fi.Size() != want {
		t.Fatalf("%s: %d bytes, want %d", out, fi.Size(), want)
	}
	fmt.Printf("records=%d chunks=%d bytes=%d\n", records, chunks, fi.Size())
}
