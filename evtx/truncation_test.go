package evtx

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// setNextRecordID writes the file header's next record id (buildFile
// leaves it 0) and its checksum.
func setNextRecordID(file []byte, next uint64) []byte {
	file = append([]byte(nil), file...)
	binary.LittleEndian.PutUint64(file[24:], next)
	binary.LittleEndian.PutUint32(file[124:], crc32.ChecksumIEEE(file[:120]))
	return file
}

// readFile reads file through NewReader (or, stream, NewStreamReader) and
// returns the record ids, the errors passed to OnError, Err and the stats.
func readFile(t *testing.T, file []byte, stream bool, opts Options) (ids []uint64, errs []error, end error, r *Reader) {
	t.Helper()
	opts.OnError = func(err error) { errs = append(errs, err) }
	var err error
	if stream {
		r, err = NewStreamReader(io.NopCloser(bytes.NewReader(file)), "mem.evtx", opts)
	} else {
		r, err = NewReader(bytes.NewReader(file), int64(len(file)), "mem.evtx", opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next(context.Background()) {
		ids = append(ids, r.Record().RecordID)
	}
	return ids, errs, r.Err(), r
}

// TestCutAtChunkBoundary: a file that stops at a chunk boundary before the
// chunks its header declares holds only sound chunks; the header alone
// tells that the rest is missing. Every record present is delivered, then
// Err reports the file truncated, naming what the header declares and
// what the file holds.
func TestCutAtChunkBoundary(t *testing.T) {
	whole := setNextRecordID(buildFile([][]byte{sampleChunk(1, 30), sampleChunk(31, 30), sampleChunk(61, 30), sampleChunk(91, 30)}, 4, 0), 121)
	for _, tc := range []struct {
		name string
		size int
		ids  int
		want string // in Err's message; "" for none
	}{
		{"whole", len(whole), 120, ""},
		{"two chunks of four", fileHeaderBlock + 2*chunkSize, 60, "the file header declares 4 chunks and next record id 121, the file holds 2 chunks (135168 bytes) and records up to id 60"},
		{"header block only", fileHeaderBlock, 0, "the file holds 0 chunks (4096 bytes) and no record"},
		{"cut header block", fileHeaderBlock - 1, 0, "the file holds 4095 bytes of its 4096-byte header block"},
		{"cut in a chunk", fileHeaderBlock + chunkSize + 1000, 30, "the file holds 1 chunk and 1000 bytes of one more (70632 bytes)"},
	} {
		for _, stream := range []bool{false, true} {
			for _, workers := range []int{1, 3} {
				name := fmt.Sprintf("%s/stream=%v/workers=%d", tc.name, stream, workers)
				ids, _, end, _ := readFile(t, whole[:tc.size], stream, Options{Workers: workers})
				if len(ids) != tc.ids {
					t.Errorf("%s: %d records, want %d", name, len(ids), tc.ids)
				}
				if tc.want == "" {
					if end != nil {
						t.Errorf("%s: %v", name, end)
					}
					continue
				}
				var fe *FileError
				if !errors.As(end, &fe) || !errors.Is(end, ErrTruncated) || fe.File != "mem.evtx" {
					t.Errorf("%s: Err %v, want a truncated file", name, end)
					continue
				}
				want := tc.want
				if stream {
					// A stream's size is not known: only chunks.
					want = strings.NewReplacer(" (135168 bytes)", "", " (4096 bytes)", "", "1 chunk and 1000 bytes of one more (70632 bytes)", "2 chunks").Replace(want)
				}
				if !strings.Contains(end.Error(), want) {
					t.Errorf("%s: %v\nwant it to hold %q", name, end, want)
				}
			}
		}
	}
}

// TestHeaderDeclares: which headers say records are missing. A dirty
// header lags behind its chunks and record ids (a log not closed), never
// runs ahead of them; a header whose checksum fails says nothing.
func TestHeaderDeclares(t *testing.T) {
	chunks := [][]byte{sampleChunk(1, 30), sampleChunk(31, 30)}
	for _, tc := range []struct {
		name      string
		file      []byte
		truncated bool
	}{
		{"dirty, lagging", setNextRecordID(buildFile(chunks, 1, FlagDirty), 20), false},
		{"clean, exact", setNextRecordID(buildFile(chunks, 2, 0), 61), false},
		{"no next record id", buildFile(chunks, 2, 0), false},
		{"clean, records missing", setNextRecordID(buildFile(chunks, 2, 0), 75), true},
		{"dirty, chunks missing", setNextRecordID(buildFile(chunks, 3, FlagDirty), 20), true},
		{"clean, last chunk beyond the file", func() []byte {
			f := buildFile(chunks, 2, 0)
			binary.LittleEndian.PutUint64(f[16:], 4)
			return setNextRecordID(f, 61)
		}(), true},
		{"header checksum fails", func() []byte {
			f := setNextRecordID(buildFile(chunks, 5, 0), 500)
			f[124] ^= 0xff
			return f
		}(), false},
	} {
		ids, _, end, _ := readFile(t, tc.file, false, Options{Workers: 2})
		if len(ids) != 60 {
			t.Errorf("%s: %d records", tc.name, len(ids))
		}
		if got := errors.Is(end, ErrTruncated); got != tc.truncated {
			t.Errorf("%s: Err %v, want truncated %v", tc.name, end, tc.truncated)
		}
	}
	// Resumed past the first chunk, the records before are not read:
	// the next record id is not checked.
	file := setNextRecordID(buildFile(chunks, 2, 0), 61)
	r, err := NewReader(bytes.NewReader(file), int64(len(file)), "mem.evtx", Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for r.Next(context.Background()) && r.Record().RecordID != 40 {
	}
	at := r.Position()
	r.Close()
	ids, _, end, _ := readFile(t, file, false, Options{Workers: 1, Start: at})
	if len(ids) != 20 || end != nil {
		t.Errorf("resumed: %d records, Err %v", len(ids), end)
	}
}

// TestGrowing: a file still being copied (Options.Growing) is read as far
// as it is whole: the chunk being written is left for a later read, and
// what is missing is no error, only Truncation's.
func TestGrowing(t *testing.T) {
	chunks := [][]byte{sampleChunk(1, 30), sampleChunk(31, 30), sampleChunk(61, 30)}
	whole := setNextRecordID(buildFile(chunks, 3, 0), 91)
	// A live log's header lags: it declares fewer chunks than it holds.
	dirty := buildFile(chunks, 2, FlagDirty)
	for _, tc := range []struct {
		name string
		file []byte
		size int
		ids  int
		note string
	}{
		{"whole", whole, len(whole), 90, ""},
		{"at a boundary", whole, fileHeaderBlock + chunkSize, 30, "declares 3 chunks and next record id 91, the file holds 1 chunk"},
		{"in a chunk", whole, fileHeaderBlock + 2*chunkSize + 5000, 60, "declares 3 chunks and next record id 91, the file holds 2 chunks"},
		{"in the last chunk", whole, len(whole) - 1, 60, "declares 3 chunks"},
		{"dirty, in the last chunk", dirty, len(dirty) - 1, 60, "chunk 2 is not whole yet (65535 of 65536 bytes)"},
	} {
		for _, workers := range []int{1, 3} {
			ids, errs, end, r := readFile(t, tc.file[:tc.size], false, Options{Workers: workers, Growing: true})
			if len(ids) != tc.ids || len(errs) != 0 || end != nil {
				t.Errorf("%s: %d records, errors %v, Err %v", tc.name, len(ids), errs, end)
			}
			if tr := r.Truncation(); (tr == nil) != (tc.note == "") || tr != nil && !strings.Contains(tr.Error(), tc.note) {
				t.Errorf("%s: Truncation %v, want %q", tc.name, tr, tc.note)
			}
		}
	}
}

// TestSlack: slots past the chunks the header declares and past the last
// chunk that hold no chunk are slack (a log's preallocated space, bytes
// left over): counted, not errors. Among the chunks in use (declared, or
// followed by a chunk) they stay errors.
func TestSlack(t *testing.T) {
	garbage := bytes.Repeat([]byte("not a chunk "), chunkSize/12+1)[:chunkSize]
	zeroHead := append(make([]byte, chunkHeaderSize), garbage[chunkHeaderSize:]...)
	c1, c2 := sampleChunk(1, 30), sampleChunk(31, 30)
	for _, tc := range []struct {
		name          string
		file          []byte
		slack, errors int
	}{
		{"after the declared chunks", buildFile([][]byte{c1, c2, garbage, zeroHead, garbage}, 2, 0), 3, 0},
		{"a zeroed header after the declared chunks", buildFile([][]byte{c1, c2, zeroHead}, 2, 0), 1, 0},
		{"a zeroed header before a chunk", buildFile([][]byte{c1, zeroHead, c2}, 1, FlagDirty), 0, 1},
		{"dirty header, after the last chunk", buildFile([][]byte{c1, c2, garbage, garbage}, 1, FlagDirty), 2, 0},
		{"a short last slot", append(buildFile([][]byte{c1, c2}, 2, 0), garbage[:100]...), 1, 0},
		{"within the declared chunks", buildFile([][]byte{c1, c2, garbage, garbage}, 4, 0), 0, 2},
		{"before a chunk", buildFile([][]byte{c1, garbage, garbage, c2, garbage}, 1, FlagDirty), 1, 2},
		{"header not trusted", func() []byte {
			f := buildFile([][]byte{c1, c2, garbage}, 2, 0)
			f[124] ^= 0xff
			return f
		}(), 0, 2}, // the header's checksum and the slot
	} {
		for _, workers := range []int{1, 3} {
			ids, errs, end, r := readFile(t, tc.file, false, Options{Workers: workers})
			st := r.Stats()
			if len(ids) != 60 || end != nil || len(errs) != tc.errors || st.SlackChunks != tc.slack {
				t.Errorf("%s (workers %d): %d records, Err %v, slack %d, errors %v", tc.name, workers, len(ids), end, st.SlackChunks, errs)
			}
			for _, e := range errs {
				var ce *ChunkError
				if errors.As(e, &ce) && (!errors.Is(e, ErrBadChunkMagic) || ce.Offset != fileHeaderBlock+int64(ce.Chunk)*chunkSize) {
					t.Errorf("%s: %v", tc.name, e)
				}
			}
			if bad := st.BadMagicChunks; bad != tc.errors && tc.name != "header not trusted" {
				t.Errorf("%s: %d bad magic chunks counted, want %d", tc.name, bad, tc.errors)
			}
		}
	}
}

// TestZeroedChunkHeader: a slot whose header is zeroed but which holds
// data is a chunk with a bad magic, reported naming the file, chunk and
// offset and counted; a slot all zeros (never written) stays empty.
func TestZeroedChunkHeader(t *testing.T) {
	c1, c2 := sampleChunk(1, 30), sampleChunk(31, 30)
	zeroHead := append([]byte(nil), sampleChunk(61, 30)...)
	clear(zeroHead[:chunkHeaderSize])
	// One non-zero byte at the very end of the slot is enough.
	lastByte := make([]byte, chunkSize)
	lastByte[chunkSize-1] = 1
	zeros := make([]byte, chunkSize)
	file := buildFile([][]byte{c1, zeroHead, zeros, lastByte, c2}, 5, 0)
	for _, workers := range []int{1, 3} {
		ids, errs, end, r := readFile(t, file, false, Options{Workers: workers})
		st := r.Stats()
		if len(ids) != 60 || end != nil || st.BadMagicChunks != 2 || st.EmptyChunks != 1 || st.SlackChunks != 0 || len(errs) != 2 {
			t.Fatalf("workers %d: %d records, Err %v, stats %+v, errors %v", workers, len(ids), end, st, errs)
		}
		nonZero := len(zeroHead) - bytes.Count(zeroHead, []byte{0})
		for i, want := range []string{
			fmt.Sprintf("mem.evtx: chunk 1 (file offset 0x11000): bad chunk magic: the chunk header is zeroed, %d non-zero bytes follow it", nonZero),
			"mem.evtx: chunk 3 (file offset 0x31000): bad chunk magic: the chunk header is zeroed, 1 non-zero byte follow it",
		} {
			if !errors.Is(errs[i], ErrBadChunkMagic) || errs[i].Error() != want {
				t.Errorf("workers %d: error %q\nwant %q", workers, errs[i], want)
			}
		}
	}
}

// TestChecksumNamesRecords: the records of a chunk whose records checksum
// fails are still delivered, and the error says so and names their ids,
// so that a user can find the documents that may hold corrupted values.
func TestChecksumNamesRecords(t *testing.T) {
	bad := sampleChunk(31, 30)
	// A changed byte inside a string value: the records still decode.
	i := bytes.Index(bad, toUTF16(`p40.exe -x`))
	bad[i] = 'q'
	for _, filter := range []func(string, uint16) bool{nil, func(_ string, id uint16) bool { return id == 1 }} {
		ids, errs, end, _ := readFile(t, buildFile([][]byte{sampleChunk(1, 30), bad, sampleChunk(61, 30)}, 3, 0), false, Options{Workers: 2, Filter: filter})
		if end != nil || len(errs) != 1 || filter == nil && len(ids) != 90 {
			t.Fatalf("%d records, Err %v, errors %v", len(ids), end, errs)
		}
		want := "mem.evtx: chunk 1 (file offset 0x11000): chunk event records checksum mismatch; its 30 records (ids 31-60) were read anyway and may hold corrupted values"
		if !errors.Is(errs[0], ErrDataChecksum) || errs[0].Error() != want {
			t.Errorf("error %q\nwant %q", errs[0], want)
		}
	}
}

// TestDumpErrors: evtx dump writes a damaged file's errors in place and
// returns them, so that its exit status can tell; a sound file gives nil.
func TestDumpErrors(t *testing.T) {
	dir := t.TempDir()
	whole := setNextRecordID(buildFile([][]byte{sampleChunk(1, 30), sampleChunk(31, 30), sampleChunk(61, 30)}, 3, 0), 91)
	bad := append([]byte(nil), whole...)
	copy(bad[fileHeaderBlock+chunkSize:], "garbage!")
	for _, tc := range []struct {
		name  string
		file  []byte
		count int
		end   bool
	}{
		{"sound", whole, 0, false},
		{"cut", whole[:fileHeaderBlock+2*chunkSize], 1, true},
		{"bad chunk", bad, 1, false},
		{"bad chunk and cut", bad[:fileHeaderBlock+2*chunkSize], 2, true},
	} {
		path := filepath.Join(dir, tc.name+".evtx")
		if err := os.WriteFile(path, tc.file, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"xml", "json"} {
			var out bytes.Buffer
			err := Dump(context.Background(), &out, path, format)
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			errLines := 0
			for _, l := range lines {
				if strings.HasPrefix(l, "<!-- error: ") || strings.HasPrefix(l, `{"error":`) {
					errLines++
				}
			}
			var de *DumpErrors
			switch {
			case tc.count == 0 && err != nil:
				t.Errorf("%s %s: %v", tc.name, format, err)
			case tc.count > 0 && (!errors.As(err, &de) || de.Count != tc.count || de.File != path || (de.End != nil) != tc.end):
				t.Errorf("%s %s: %v, want %d errors", tc.name, format, err, tc.count)
			}
			if errLines != tc.count {
				t.Errorf("%s %s: %d error lines, want %d", tc.name, format, errLines, tc.count)
			}
			if tc.end && !strings.Contains(lines[len(lines)-1], "truncated data: the file header declares 3 chunks") {
				t.Errorf("%s %s: last line %.200s", tc.name, format, lines[len(lines)-1])
			}
		}
	}
}
