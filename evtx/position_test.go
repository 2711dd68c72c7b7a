package evtx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
)

// wrappedCorpusFile is the public corpus's wrapped log: its chunks hold
// record ids 2056-2430, then 2032-2055.
const wrappedCorpusFile = "omerbenamram-evtx/samples/2-system-Microsoft-Windows-LiveId%4Operational.evtx"

func corpusFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(corpus.RequireFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type posRec struct {
	id  uint64
	pos Position
}

// readFrom reads file from start (random access, or as a stream) and
// returns the records' ids and positions.
func readFrom(t *testing.T, file []byte, start Position, workers int, stream bool) ([]posRec, *Reader) {
	t.Helper()
	opts := Options{Workers: workers, Start: start}
	var r *Reader
	var err error
	if stream {
		r, err = NewStreamReader(io.MultiReader(bytes.NewReader(file)), "mem.evtx", opts)
	} else {
		r, err = NewReader(bytes.NewReader(file), int64(len(file)), "mem.evtx", opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []posRec
	for r.Next(context.Background()) {
		out = append(out, posRec{r.Record().RecordID, r.Position()})
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out, r
}

func ids(rs []posRec) []uint64 {
	out := make([]uint64, len(rs))
	for i, r := range rs {
		out[i] = r.id
	}
	return out
}

// TestResumeWrappedEveryChunkBoundary interrupts a read of the corpus's
// wrapped log after the last record of every chunk (and after every 17th
// record) and resumes from the position: every record is read exactly once,
// in file order, whatever the order of the ids.
func TestResumeWrappedEveryChunkBoundary(t *testing.T) {
	file := corpusFile(t, wrappedCorpusFile)
	for _, stream := range []bool{false, true} {
		all, _ := readFrom(t, file, Position{}, 2, stream)
		if len(all) < 300 || all[len(all)-1].id >= all[0].id {
			t.Fatalf("stream %v: %d records, first id %d, last %d: not the wrapped log", stream, len(all), all[0].id, all[len(all)-1].id)
		}
		cuts := 0
		for i := range all {
			boundary := i+1 == len(all) || all[i+1].pos.Chunk != all[i].pos.Chunk
			if !boundary && i%17 != 0 {
				continue
			}
			cuts++
			rest, r := readFrom(t, file, all[i].pos, 1+i%2, stream)
			if r.StartReset() != "" {
				t.Fatalf("stream %v cut %d: position not used: %s", stream, i, r.StartReset())
			}
			got := append(ids(all[:i+1]), ids(rest)...)
			if !slices.Equal(got, ids(all)) {
				t.Fatalf("stream %v cut after record %d (id %d, %+v): %d records in two runs, want %d exactly once", stream, i, all[i].id, all[i].pos, len(got), len(all))
			}
			if len(rest) > 0 && !slices.Equal(rest, all[i+1:]) {
				t.Fatalf("stream %v cut %d: resumed positions differ from a full read", stream, i)
			}
		}
		if cuts < 16 {
			t.Fatalf("only %d cuts", cuts)
		}
	}
}

// TestResumeAfterGrowth: a log that is not wrapped and grew (a chunk filled
// further, a chunk appended) resumes after the last record read.
func TestResumeAfterGrowth(t *testing.T) {
	before := buildFile([][]byte{sampleChunk(1, 30), sampleChunk(31, 10)}, 2, 0)
	after := buildFile([][]byte{sampleChunk(1, 30), sampleChunk(31, 25), sampleChunk(56, 30)}, 3, 0)
	first, _ := readFrom(t, before, Position{}, 2, false)
	rest, r := readFrom(t, after, first[len(first)-1].pos, 2, false)
	if r.StartReset() != "" || len(rest) != 45 || rest[0].id != 41 {
		t.Fatalf("grown log: %d records from id %v, reset %q", len(rest), ids(rest[:1]), r.StartReset())
	}
}

// TestResumeWrappedAgain: when the log wrapped again between two runs, the
// saved chunk was overwritten, or a wrapped log was written in a chunk before
// the saved one, the whole file is read again (duplicates then carry the
// same _id) rather than silently skipping the new records.
func TestResumeWrappedAgain(t *testing.T) {
	// Wrapped: the oldest chunk (1-30) is last.
	c1, c2, c3 := sampleChunk(31, 30), sampleChunk(61, 30), sampleChunk(1, 30)
	file := buildFile([][]byte{c1, c2, c3}, 3, 0)
	all, _ := readFrom(t, file, Position{}, 2, false)
	at := all[44].pos // in chunk 1
	rest, r := readFrom(t, file, at, 2, false)
	if r.StartReset() != "" || len(rest) != 45 {
		t.Fatalf("unchanged wrapped file: %d records, reset %q", len(rest), r.StartReset())
	}
	for name, f := range map[string][]byte{
		// Records 91-120 overwrote chunk 0, before the saved chunk 1.
		"chunk before the position rewritten": buildFile([][]byte{sampleChunk(91, 30), c2, c3}, 3, 0),
		// Records 91-150 overwrote chunks 0 and 1.
		"chunk of the position rewritten": buildFile([][]byte{sampleChunk(91, 30), sampleChunk(121, 30), c3}, 3, 0),
		// The file was replaced by a shorter one.
		"file shrank": buildFile([][]byte{c1}, 1, 0),
	} {
		rest, r := readFrom(t, f, at, 2, false)
		whole, _ := readFrom(t, f, Position{}, 2, false)
		if r.StartReset() == "" || !slices.Equal(ids(rest), ids(whole)) {
			t.Errorf("%s: reset %q, %d records, want the whole file (%d)", name, r.StartReset(), len(rest), len(whole))
		}
	}
}

// TestStreamPositionChanged: a stream whose saved chunk changed is refused
// with ErrPositionChanged, for the caller to read it again from the start.
func TestStreamPositionChanged(t *testing.T) {
	file := buildFile([][]byte{sampleChunk(1, 30), sampleChunk(31, 30)}, 2, 0)
	all, _ := readFrom(t, file, Position{}, 1, true)
	other := buildFile([][]byte{sampleChunk(1, 30), sampleChunk(100, 30)}, 2, 0)
	_, err := NewStreamReader(bytes.NewReader(other), "s", Options{Start: all[40].pos})
	if !errors.Is(err, ErrPositionChanged) {
		t.Fatalf("changed stream: %v", err)
	}
}

// TestStreamTruncated: a stream cut inside a chunk delivers what it holds
// and reports the truncation; a failing stream ends with its error.
func TestStreamTruncated(t *testing.T) {
	file := buildFile([][]byte{sampleChunk(1, 30), sampleChunk(31, 30)}, 2, 0)
	r, err := NewStreamReader(bytes.NewReader(file[:fileHeaderBlock+chunkSize+2000]), "s", Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r.Next(context.Background()) {
		n++
	}
	r.Close()
	if n < 30 || n >= 60 || r.Err() != nil || len(r.Errors()) == 0 || r.Chunks() != 2 {
		t.Fatalf("truncated stream: %d records, err %v, errors %v, chunks %d", n, r.Err(), r.Errors(), r.Chunks())
	}
	boom := errors.New("boom")
	r, err = NewStreamReader(io.MultiReader(bytes.NewReader(file[:fileHeaderBlock+chunkSize]), &failReader{boom}), "s", Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	n = 0
	for r.Next(context.Background()) {
		n++
	}
	r.Close()
	if n != 30 || !errors.Is(r.Err(), boom) {
		t.Fatalf("failing stream: %d records, err %v", n, r.Err())
	}
}

type failReader struct{ err error }

func (f *failReader) Read([]byte) (int, error) { return 0, f.err }
