package evtx

import (
	"encoding/binary"
	"hash/crc32"
)

const (
	fileHeaderBlock  = 0x1000
	chunkSize        = 0x10000
	chunkHeaderSize  = 0x200
	recordHeaderSize = 24
	minRecordSize    = recordHeaderSize + 4

	fileMagic   = "ElfFile\x00"
	chunkMagic  = "ElfChnk\x00"
	recordMagic = "\x2a\x2a\x00\x00"

	// Limits that keep hostile input bounded.
	maxElementDepth  = 64
	maxInstanceDepth = 8
	maxNodesPerChunk = 1 << 17
)

// File flags in the file header.
const (
	FlagDirty = 0x1
	FlagFull  = 0x2
)

// FileHeader is the decoded 4 KiB file header.
type FileHeader struct {
	FirstChunk   uint64
	LastChunk    uint64
	NextRecordID uint64
	MinorVersion uint16
	MajorVersion uint16
	ChunkCount   uint16 // as declared; dirty files hold more
	Flags        uint32
	ChecksumOK   bool
}

// Dirty reports whether the file was not closed cleanly, in which case the
// header's chunk count cannot be trusted.
func (h FileHeader) Dirty() bool { return h.Flags&FlagDirty != 0 }

func parseFileHeader(b []byte) (FileHeader, error) {
	if len(b) < 128 {
		return FileHeader{}, ErrTruncated
	}
	if string(b[:8]) != fileMagic {
		return FileHeader{}, ErrNotEVTX
	}
	le := binary.LittleEndian
	h := FileHeader{
		FirstChunk:   le.Uint64(b[8:]),
		LastChunk:    le.Uint64(b[16:]),
		NextRecordID: le.Uint64(b[24:]),
		MinorVersion: le.Uint16(b[36:]),
		MajorVersion: le.Uint16(b[38:]),
		ChunkCount:   le.Uint16(b[42:]),
		Flags:        le.Uint32(b[120:]),
	}
	h.ChecksumOK = crc32.ChecksumIEEE(b[:120]) == le.Uint32(b[124:])
	return h, nil
}

// chunkHeader is the decoded 512-byte chunk header.
type chunkHeader struct {
	firstRecNum, lastRecNum uint64
	firstRecID, lastRecID   uint64
	lastRecOffset           uint32
	freeSpaceOffset         uint32
	dataCRC                 uint32
	headerCRCOK             bool
}

func parseChunkHeader(b []byte) chunkHeader {
	le := binary.LittleEndian
	h := chunkHeader{
		firstRecNum:     le.Uint64(b[8:]),
		lastRecNum:      le.Uint64(b[16:]),
		firstRecID:      le.Uint64(b[24:]),
		lastRecID:       le.Uint64(b[32:]),
		lastRecOffset:   le.Uint32(b[44:]),
		freeSpaceOffset: le.Uint32(b[48:]),
		dataCRC:         le.Uint32(b[52:]),
	}
	crc := crc32.ChecksumIEEE(b[:120])
	crc = crc32.Update(crc, crc32.IEEETable, b[128:chunkHeaderSize])
	h.headerCRCOK = crc == le.Uint32(b[124:])
	return h
}

// cursor reads little-endian values from a chunk with a hard end; the first
// out-of-range read sets err and every later read returns zero, so callers
// check err once per structure instead of after every field.
type cursor struct {
	b   []byte // the whole chunk: BinXML offsets are chunk-relative
	off int
	end int
	err error
}

func (c *cursor) fail(err error) {
	if c.err == nil {
		c.err = err
	}
	c.off = c.end
}

func (c *cursor) need(n int) bool {
	if c.err != nil {
		return false
	}
	if n < 0 || c.off+n > c.end || c.off+n > len(c.b) {
		c.fail(ErrTruncated)
		return false
	}
	return true
}

func (c *cursor) u8() uint8 {
	if !c.need(1) {
		return 0
	}
	v := c.b[c.off]
	c.off++
	return v
}

func (c *cursor) peek() (uint8, bool) {
	if c.err != nil || c.off >= c.end || c.off >= len(c.b) {
		return 0, false
	}
	return c.b[c.off], true
}

func (c *cursor) u16() uint16 {
	if !c.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(c.b[c.off:])
	c.off += 2
	return v
}

func (c *cursor) u32() uint32 {
	if !c.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(c.b[c.off:])
	c.off += 4
	return v
}

func (c *cursor) bytes(n int) []byte {
	if !c.need(n) {
		return nil
	}
	v := c.b[c.off : c.off+n]
	c.off += n
	return v
}

func (c *cursor) skip(n int) {
	if c.need(n) {
		c.off += n
	}
}
