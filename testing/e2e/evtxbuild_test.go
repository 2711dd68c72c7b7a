package e2e

import (
	"bufio"
	"encoding/binary"
	"hash/crc32"
	"os"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
)

// EVTX layout (public format): a 4096-byte file header, then 64 KiB
// chunks, each a 512-byte header followed by records. The fields touched
// here are listed where they are used.
const (
	evtxHeaderBlock = 4096
	evtxChunkSize   = 65536
	evtxChunkHeader = 512
)

// cleanChunks returns the chunks of files whose header and record
// checksums are both valid.
func cleanChunks(t *testing.T, files []string) [][]byte {
	t.Helper()
	le := binary.LittleEndian
	var out [][]byte
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for off := evtxHeaderBlock; off+evtxChunkSize <= len(data); off += evtxChunkSize {
			b := data[off : off+evtxChunkSize]
			if string(b[:8]) != "ElfChnk\x00" || le.Uint32(b[124:]) != chunkHeaderCRC(b) {
				continue
			}
			free := int(le.Uint32(b[48:]))
			if free <= evtxChunkHeader || free > len(b) || crc32.ChecksumIEEE(b[evtxChunkHeader:free]) != le.Uint32(b[52:]) {
				continue
			}
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		corpus.Skip(t, "no clean EVTX chunks in the corpus files")
	}
	return out
}

// chunkHeaderCRC covers the chunk header without the checksum field.
func chunkHeaderCRC(b []byte) uint32 {
	crc := crc32.ChecksumIEEE(b[:120])
	return crc32.Update(crc, crc32.IEEETable, b[128:evtxChunkHeader])
}

// writeEVTX writes an EVTX file of the chunks repeated copies times. Copy
// k adds k<<32 to every record id (record headers and chunk header) and
// the checksums are recomputed, so that every record of the file is a
// record of its own to procbeat (event.id hashes the record id) while the
// events themselves stay the corpus's.
func writeEVTX(t *testing.T, path string, chunks [][]byte, copies int) {
	t.Helper()
	le := binary.LittleEndian
	n := len(chunks) * copies
	if n > 0xffff {
		t.Fatalf("%d chunks: more than an EVTX header can count", n)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := make([]byte, evtxHeaderBlock)
	copy(hdr, "ElfFile\x00")
	le.PutUint64(hdr[16:], uint64(n-1)) // current chunk
	le.PutUint64(hdr[24:], uint64(copies)<<32)
	le.PutUint32(hdr[32:], 128) // header size
	le.PutUint16(hdr[36:], 1)   // minor version
	le.PutUint16(hdr[38:], 3)   // major version
	le.PutUint16(hdr[40:], evtxHeaderBlock)
	le.PutUint16(hdr[42:], uint16(n))
	le.PutUint32(hdr[124:], crc32.ChecksumIEEE(hdr[:120]))
	if _, err := w.Write(hdr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, evtxChunkSize)
	for k := range copies {
		shift := uint64(k) << 32
		for _, src := range chunks {
			copy(buf, src)
			for _, at := range []int{8, 16, 24, 32} { // first/last record number and id
				le.PutUint64(buf[at:], le.Uint64(buf[at:])+shift)
			}
			free := int(le.Uint32(buf[48:]))
			for pos := evtxChunkHeader; pos+24 <= free && string(buf[pos:pos+4]) == "\x2a\x2a\x00\x00"; {
				size := int(le.Uint32(buf[pos+4:]))
				if size < 24 || pos+size > free {
					break
				}
				le.PutUint64(buf[pos+8:], le.Uint64(buf[pos+8:])+shift)
				pos += size
			}
			le.PutUint32(buf[52:], crc32.ChecksumIEEE(buf[evtxChunkHeader:free]))
			le.PutUint32(buf[124:], chunkHeaderCRC(buf))
			if _, err := w.Write(buf); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
