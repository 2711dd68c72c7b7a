package evtx

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
)

// countingReaderAt counts the reads made of a file. Workers read in
// parallel (io.ReaderAt allows it), so the count is atomic.
type countingReaderAt struct {
	b     *bytes.Reader
	reads atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.reads.Add(1)
	return c.b.ReadAt(p, off)
}

// TestMarkDefersTheSalt: a reader whose positions are taken as Marks gives,
// through PositionOf, the positions Position gives, and scans no chunk
// header for the salt until a position is asked for.
func TestMarkDefersTheSalt(t *testing.T) {
	// Record numbers that go down from one chunk to the next make the log
	// wrapped, so its positions carry a salt.
	var chunks [][]byte
	for i := 0; i < 6; i++ {
		chunks = append(chunks, sampleChunk(uint64(1000-100*i), 20))
	}
	file := buildFile(chunks, len(chunks), 0)
	read := func(positions bool) (marks []Mark, want []Position, reads int, r *Reader) {
		src := &countingReaderAt{b: bytes.NewReader(file)}
		r, err := NewReader(src, int64(len(file)), "w.evtx", Options{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		for r.Next(context.Background()) {
			marks = append(marks, r.Mark())
			if positions {
				want = append(want, r.Position())
			}
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		return marks, want, int(src.reads.Load()), r
	}
	_, want, withPositions, _ := read(true)
	marks, _, withMarks, r := read(false)
	if withMarks+len(chunks) > withPositions {
		t.Errorf("reading with Marks made %d reads, with Positions %d: the salt's scan of %d chunk headers was not spared", withMarks, withPositions, len(chunks))
	}
	if len(marks) != len(want) || len(want) == 0 {
		t.Fatalf("%d marks, %d positions", len(marks), len(want))
	}
	for i, m := range marks {
		if got := r.PositionOf(m); got != want[i] {
			t.Fatalf("record %d: PositionOf(Mark) = %+v, Position = %+v", i, got, want[i])
		}
	}
	if want[0].Check == mixCheck(marks[0].ident, 0) {
		t.Fatal("the test's log is not wrapped: its positions carry no salt")
	}
	if got := r.PositionOf(Mark{}); got != (Position{}) {
		t.Errorf("PositionOf(Mark{}) = %+v, want the start", got)
	}
}

// TestSaltFromTheChunksRead: a reader that read its file from the first
// chunk to the last gives the salt fileSalt computes, from the chunks it
// read and without reading their headers again; one asked for a position
// before its end scans the headers, with the same result.
func TestSaltFromTheChunksRead(t *testing.T) {
	descending := func() [][]byte {
		var chunks [][]byte
		for i := 0; i < 6; i++ {
			chunks = append(chunks, sampleChunk(uint64(1000-100*i), 20))
		}
		return chunks
	}
	ascending := [][]byte{sampleChunk(1, 20), sampleChunk(21, 20), sampleChunk(41, 20)}
	// A slot of zeros and one of garbage amid a wrapped log: slots that
	// hold no chunk play no part.
	holes := descending()
	holes[2] = make([]byte, chunkSize)
	holes[4] = bytes.Repeat([]byte{0xa5}, chunkSize)
	files := []struct {
		name string
		file func(*testing.T) []byte
	}{
		{"wrapped", func(*testing.T) []byte { return buildFile(descending(), 6, 0) }},
		{"not wrapped", func(*testing.T) []byte { return buildFile(ascending, 3, 0) }},
		{"holes", func(*testing.T) []byte { return buildFile(holes, 6, 0) }},
		// A last slot too short for a chunk header, though it starts
		// as one, and one long enough for the salt's part of it.
		{"short last slot", func(*testing.T) []byte { return append(buildFile(descending(), 6, 0), descending()[0][:30]...) }},
		{"truncated last chunk", func(*testing.T) []byte { return append(buildFile(descending(), 6, 0), descending()[0][:100]...) }},
		{"corpus wrapped", func(t *testing.T) []byte { return corpusFile(t, wrappedCorpusFile) }},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) { checkSaltFromChunks(t, f.file(t)) })
	}
}

func checkSaltFromChunks(t *testing.T, file []byte) {
	{
		nchunks := int((int64(len(file)) - fileHeaderBlock + chunkSize - 1) / chunkSize)
		want, err := fileSalt(bytes.NewReader(file), nchunks)
		if err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 2} {
			for _, early := range []bool{false, true} {
				src := &countingReaderAt{b: bytes.NewReader(file)}
				r, err := NewReader(src, int64(len(file)), "salt.evtx", Options{Workers: workers})
				if err != nil {
					t.Fatal(err)
				}
				var last Mark
				var first Position
				for r.Next(context.Background()) {
					last = r.Mark()
					if early && first == (Position{}) {
						first = r.Position()
					}
				}
				if err := r.Err(); err != nil {
					t.Fatal(err)
				}
				readsBefore := src.reads.Load()
				end := r.PositionOf(last)
				r.Close()
				if r.salt != want {
					t.Errorf("%d workers, early %v: salt %#x, fileSalt %#x", workers, early, r.salt, want)
				}
				if end.Check != mixCheck(last.ident, want) {
					t.Errorf("%d workers, early %v: end position %+v does not carry the salt", workers, early, end)
				}
				if src.reads.Load() != readsBefore {
					t.Errorf("%d workers, early %v: the end position read %d times", workers, early, src.reads.Load()-readsBefore)
				}
			}
		}
	}
}
