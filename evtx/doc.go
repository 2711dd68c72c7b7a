// Package evtx reads Windows XML Event Log (EVTX) files straight into
// winevent.Record values.
//
// Design, in the order the bytes are met:
//
//   - Every 64 KiB chunk slot present in the file is examined, whatever the
//     header's chunk count says (dirty files use more chunks than they
//     declare). Once the file is read to its end, its header (when its
//     checksum holds) is compared with what the file held: fewer chunks, or
//     records up to a lower id, than it declares make the file truncated
//     (Err, ErrTruncated): a copy cut at a chunk boundary holds only sound
//     chunks. A dirty header lags behind the chunks, never runs ahead.
//   - Each chunk is decoded on its own. Chunks with a bad magic are skipped
//     and reported (slots all zeros are counted as empty, not errors; a
//     zeroed header with data after it is a bad magic), except
//     past the chunks the header declares and the last chunk: there they
//     are slack (Stats.SlackChunks). Chunks whose header or records checksum
//     does not match are still decoded, and their error names the records
//     read (ids): their values may be corrupted. With Options.Start (a
//     physical Position: chunk slot and offset in it, validated by a Check
//     of the chunk's identity), the chunks before it are not read at all,
//     whatever their record ids.
//   - A template is decoded once per chunk, cached by its chunk offset, into
//     a small tree in an arena that is reused from chunk to chunk. A record
//     then only supplies substitution values. Provider name and event id are
//     located in the template beforehand, so Options.Filter runs before
//     anything else of the record is decoded.
//   - For each template (and place it is instantiated at) a plan is
//     compiled once per chunk: the fields and Data names the tree walk would
//     find, in order (plan.go). A record then only renders its substitution
//     values; a BinXML value standing for elements is decoded per record and
//     its template instance follows that template's own plan.
//   - Values are rendered into one buffer per record and become strings with
//     a single allocation; names, providers, computers and SIDs are interned.
//     No XML or JSON is produced on this path.
//   - Chunks are decoded by Options.Workers goroutines and delivered in file
//     order. NewStreamReader reads a sequential stream (an archive member)
//     the same way: workers take chunks from it in order under a lock.
//   - On Linux a file given as *os.File is mapped read-only and chunks are
//     decoded where they lie, without a copy; each window of chunks leaves
//     the resident set once decoded (filemap.go). Elsewhere, and for other
//     io.ReaderAt sources, each chunk is read into a buffer.
//   - Record slots are reused: decodeRecord stores a field only when it
//     changes and clears what a record lacks, since every pointer store
//     costs a write barrier while the GC marks.
//
// Values are rendered as Windows renders them in event XML: integers in
// decimal, HexInt32/HexInt64 as 0x-prefixed lower-case hex, SizeT as
// 0x-prefixed hex, GUIDs upper-case in braces, SIDs as S-1-..., FILETIME and
// SYSTEMTIME as RFC 3339 UTC with up to 7 fractional digits, binary as
// upper-case hex, booleans as true/false, arrays as their elements joined
// by commas. Unpaired UTF-16 surrogates become U+FFFD.
//
// Event data: EventData/Data elements become Name/Value pairs in order;
// Data without a Name attribute is named param1, param2, ... (as
// Winlogbeat does) and EventData/Binary is named Binary. UserData is
// flattened: each leaf element becomes a pair named after the element, and
// each of its attributes a pair named Element.Attribute.
//
// Robustness: every read is bounded by the chunk it comes from; element
// nesting, template instance nesting and the work one record may cause are
// capped; a panic in the decoder is recovered per record and per chunk. A
// broken record is reported as a *RecordError naming file, chunk, record id
// and file offset, and the decoder resynchronises on the next plausible
// record of the chunk (whose id must lie within the chunk header's range
// when the header is intact), so neighbours are kept.
package evtx
