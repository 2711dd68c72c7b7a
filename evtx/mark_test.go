package evtx

import (
	"bytes"
	"context"
	"testing"
)

// countingReaderAt counts the reads made of a file.
type countingReaderAt struct {
	b     *bytes.Reader
	reads int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
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
		return marks, want, src.reads, r
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
