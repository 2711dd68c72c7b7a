package evtx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// readAllPath reads a file through Open and renders what it returned.
func readAllPath(t *testing.T, path string, opts Options) (string, *Reader) {
	t.Helper()
	var errs []error
	opts.OnError = func(err error) { errs = append(errs, err) }
	r, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	out := ""
	for r.Next(context.Background()) {
		out += fmt.Sprintf("%+v %+v\n", *r.Record(), r.Position())
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s%v\n%+v", out, errs, r.Stats()), r
}

// TestMappedMatchesReadAt reads files through the mapping (Open on Linux)
// and through ReadAt (the same file behind a wrapper that is no *os.File),
// over more than one window of chunks, with a short last chunk, a
// resumed start and both worker modes.
func TestMappedMatchesReadAt(t *testing.T) {
	var chunks [][]byte
	for i := 0; i < 2*mapWindow+5; i++ {
		chunks = append(chunks, sampleChunk(uint64(1+20*i), 20))
	}
	chunks[7] = make([]byte, chunkSize) // an empty slot
	file := buildFile(chunks, len(chunks), 0)
	file = file[:len(file)-chunkSize/2] // truncated last chunk
	path := filepath.Join(t.TempDir(), "m.evtx")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, start := range []Position{{}, {Chunk: mapWindow + 3, Offset: chunkHeaderSize + 1}} {
		for _, workers := range []int{1, 3} {
			opts := Options{Workers: workers, Filter: processFilter}
			if !start.IsZero() {
				// A valid Check: the one a reader returns there.
				start.Check = checkAt(t, path, start.Chunk)
			}
			opts.Start = start
			got, r := readAllPath(t, path, opts)
			if r.StartReset() != "" {
				t.Fatalf("start %+v dropped: %s", start, r.StartReset())
			}
			if mapped := r.mem != nil; mapped != (runtime.GOOS == "linux") {
				t.Fatalf("mapped %v on %s", mapped, runtime.GOOS)
			}
			want := readWrapped(t, path, opts)
			if got != want {
				t.Fatalf("start %+v workers %d: mapped read differs:\n%s\nReadAt:\n%s", start, workers, got, want)
			}
		}
	}
}

// checkAt returns the Check of a position in chunk i of path.
func checkAt(t *testing.T, path string, i int) uint64 {
	r, err := Open(path, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next(context.Background()) {
		if p := r.Position(); p.Chunk == i {
			return p.Check
		}
	}
	t.Fatalf("no record in chunk %d", i)
	return 0
}

// onlyReaderAt hides *os.File so that NewReader reads with ReadAt.
type onlyReaderAt struct{ f *os.File }

func (o onlyReaderAt) ReadAt(b []byte, off int64) (int, error) { return o.f.ReadAt(b, off) }

func readWrapped(t *testing.T, path string, opts Options) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	opts.OnError = func(err error) { errs = append(errs, err) }
	r, err := NewReader(onlyReaderAt{f}, fi.Size(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.mem != nil {
		t.Fatal("a wrapped file was mapped")
	}
	out := ""
	for r.Next(context.Background()) {
		out += fmt.Sprintf("%+v %+v\n", *r.Record(), r.Position())
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s%v\n%+v", out, errs, r.Stats())
}

// TestMappedFileShrinks truncates a mapped file before it is read: reading
// past the new end faults, and that must be a chunk error, not a crash.
func TestMappedFileShrinks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files are mapped on Linux only")
	}
	var chunks [][]byte
	for i := 0; i < 4; i++ {
		chunks = append(chunks, sampleChunk(uint64(1+20*i), 20))
	}
	path := filepath.Join(t.TempDir(), "s.evtx")
	if err := os.WriteFile(path, buildFile(chunks, len(chunks), 0), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		var errs []error
		r, err := Open(path, Options{Workers: workers, OnError: func(err error) { errs = append(errs, err) }})
		if err != nil {
			t.Fatal(err)
		}
		if r.mem == nil {
			t.Fatal("not mapped")
		}
		if err := os.Truncate(path, fileHeaderBlock+2*chunkSize); err != nil {
			t.Fatal(err)
		}
		n := 0
		for r.Next(context.Background()) {
			n++
		}
		r.Close()
		if n != 40 || len(errs) != 2 {
			t.Fatalf("workers %d: %d records, errors %v; want 40 records and 2 chunk errors", workers, n, errs)
		}
		for _, e := range errs {
			var ce *ChunkError
			if !errors.As(e, &ce) || !errors.Is(e, ErrUnreadable) {
				t.Fatalf("workers %d: error %v, want a chunk error matching ErrUnreadable", workers, e)
			}
		}
		if err := os.WriteFile(path, buildFile(chunks, len(chunks), 0), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
