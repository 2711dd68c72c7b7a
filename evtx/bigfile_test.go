package evtx

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
)

// corpusChunk is one clean corpus chunk, the records it holds and how
// many of them are process events (processFilter).
type corpusChunk struct {
	b    []byte
	n    int
	proc int
}

// corpusChunks returns the clean chunks of the corpus files that hold
// process events or, with all, of every corpus EVTX file: a mixed file
// where process events are a minority, as in a host's whole collection.
func corpusChunks(tb testing.TB, all bool) []corpusChunk {
	tb.Helper()
	dir := corpus.Require(tb)
	opts, procOpts := Options{}, Options{Filter: processFilter}
	dec, procDec := newDecoder("corpus", &opts), newDecoder("corpus", &procOpts)
	res, procRes := &chunkResult{}, &chunkResult{}
	var chunks []corpusChunk
	for _, e := range readManifest(tb, dir) {
		if !all && e.sysmon1+e.sysmon5+e.sysmon10+e.sec4688 == 0 {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.path))
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
				procDec.decodeChunk(0, 0, b, procRes)
				chunks = append(chunks, corpusChunk{b, res.n, procRes.n})
			}
		}
	}
	if len(chunks) == 0 {
		corpus.Skip(tb, "no clean corpus chunks")
	}
	return chunks
}

// benchMix says which corpus chunks a bench file is made of: those of the
// files holding process events, or all, or (share > 0) all of them with
// process-bearing chunks added among them until process events are share
// of the records.
type benchMix struct {
	all   bool
	share float64
}

// parseBenchMix reads PROCBEAT_EVTX_BENCH_MIX: "process" (or empty),
// "all", or a share of process events such as "18%".
func parseBenchMix(v string) (benchMix, error) {
	switch v {
	case "", "process":
		return benchMix{}, nil
	case "all":
		return benchMix{all: true}, nil
	}
	pct, ok := strings.CutSuffix(v, "%")
	f, err := strconv.ParseFloat(pct, 64)
	if !ok || err != nil || f <= 0 || f >= 100 {
		return benchMix{}, fmt.Errorf("PROCBEAT_EVTX_BENCH_MIX=%q: want process, all or a percentage of process events such as 18%%", v)
	}
	return benchMix{all: true, share: f / 100}, nil
}

// chunks returns one cycle of the mix's chunks.
func (m benchMix) chunks(tb testing.TB) []corpusChunk {
	tb.Helper()
	src := corpusChunks(tb, m.all)
	if m.share == 0 {
		return src
	}
	proc := corpusChunks(tb, false)
	var pr, pp int
	for _, c := range proc {
		pr, pp = pr+c.n, pp+c.proc
	}
	if float64(pp) <= m.share*float64(pr) {
		tb.Fatalf("the corpus's process-bearing chunks hold %.1f%% process events: a share of %.1f%% cannot be reached", 100*float64(pp)/float64(pr), 100*m.share)
	}
	// How many process-bearing chunks (cycling through them) bring the
	// share of the whole to m.share; they are then spread evenly among
	// every chunk, kept in corpus order, so that process events come
	// throughout the file as in a collection of a host's logs.
	var recs, procs int
	for _, c := range src {
		recs, procs = recs+c.n, procs+c.proc
	}
	var extra []corpusChunk
	for float64(procs) < m.share*float64(recs) {
		p := proc[len(extra)%len(proc)]
		extra = append(extra, p)
		recs, procs = recs+p.n, procs+p.proc
	}
	out := make([]corpusChunk, 0, len(src)+len(extra))
	for i, c := range src {
		out = append(out, c)
		for len(out)-i-1 < len(extra) && (len(out)-i)*len(src) <= (i+1)*len(extra) {
			out = append(out, extra[len(out)-i-1])
		}
	}
	return out
}

// writeCorpusEVTX streams to path an EVTX file made of the clean
// corpus chunks of mix, repeated (unchanged, so checksums stay valid and
// record ids repeat from copy to copy) until the file holds at least
// minRecords records and minBytes bytes. It returns the record and chunk
// counts. The file is written chunk by chunk, so a 1 GB file costs no more
// memory than the corpus chunks themselves.
func writeCorpusEVTX(tb testing.TB, path string, minRecords int, minBytes int64, mix benchMix) (records, chunks int) {
	tb.Helper()
	src := mix.chunks(tb)
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
// of only those holding process events, and a percentage (18%) takes them
// all with process-bearing chunks added until process events are that
// share of the records.
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
	mix, err := parseBenchMix(os.Getenv("PROCBEAT_EVTX_BENCH_MIX"))
	if err != nil {
		t.Fatal(err)
	}
	records, chunks := writeCorpusEVTX(t, out, minRecords, minBytes, mix)
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(fileHeaderBlock) + int64(chunks)*chunkSize; fi.Size() != want {
		t.Fatalf("%s: %d bytes, want %d", out, fi.Size(), want)
	}
	fmt.Printf("records=%d chunks=%d bytes=%d\n", records, chunks, fi.Size())
}

// TestBenchMixShare: a bench file's mix with a share holds every corpus
// chunk once, in order, and process events at that share of the records
// (within one chunk's worth); a share the corpus cannot reach is refused.
func TestBenchMixShare(t *testing.T) {
	all := corpusChunks(t, true)
	for _, v := range []string{"18%", "30%"} {
		mix, err := parseBenchMix(v)
		if err != nil {
			t.Fatal(err)
		}
		got := mix.chunks(t)
		var recs, procs, j int
		for _, c := range got {
			recs, procs = recs+c.n, procs+c.proc
			if j < len(all) && bytes.Equal(c.b, all[j].b) {
				j++
			}
		}
		if j != len(all) {
			t.Errorf("%s: %d of the %d corpus chunks in order", v, j, len(all))
		}
		if share := float64(procs) / float64(recs); share < mix.share || share > mix.share+0.01 {
			t.Errorf("%s: process events are %.2f%% of the records", v, 100*share)
		}
	}
	for _, v := range []string{"18", "0%", "100%", "x%", "some"} {
		if _, err := parseBenchMix(v); err == nil {
			t.Errorf("PROCBEAT_EVTX_BENCH_MIX=%s accepted", v)
		}
	}
}
