package evtx

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/winevent"
)

// decodeBytes reads an in-memory EVTX file and returns copies of its records.
func decodeBytes(t *testing.T, file []byte, opts Options) ([]winevent.Record, []error, Stats) {
	t.Helper()
	var errs []error
	opts.OnError = func(err error) { errs = append(errs, err) }
	r, err := NewReader(bytes.NewReader(file), int64(len(file)), "mem.evtx", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []winevent.Record
	for r.Next(context.Background()) {
		rec := *r.Record()
		rec.Data = append([]winevent.Data(nil), rec.Data...)
		out = append(out, rec)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out, errs, r.Stats()
}

func sampleChunk(firstID uint64, n int) []byte {
	cb := newChunkBuilder()
	tmpl := eventTemplate("Image", "CommandLine", "ProcessId")
	for i := 0; i < n; i++ {
		id := firstID + uint64(i)
		vals := append(systemVals(winevent.ProviderSysmon, uint16(1+i%3)),
			vStr(fmt.Sprintf(`C:\bin\p%d.exe`, id)), vStr(fmt.Sprintf("p%d.exe -x", id)), vU32(uint32(id)))
		cb.record(id, "ev", tmpl, vals)
	}
	return cb.bytes()
}

func TestSyntheticFile(t *testing.T) {
	// Dirty header: declares one chunk, holds three (one zero-filled).
	file := buildFile([][]byte{sampleChunk(1, 50), make([]byte, chunkSize), sampleChunk(51, 50)}, 1, FlagDirty)
	for _, workers := range []int{1, 3} {
		recs, errs, st := decodeBytes(t, file, Options{Workers: workers})
		if len(errs) != 0 {
			t.Fatalf("workers %d: unexpected errors %v", workers, errs)
		}
		if len(recs) != 100 || st.Records != 100 || st.EmptyChunks != 1 || st.ChunksDecoded != 2 {
			t.Fatalf("workers %d: %d records, stats %+v", workers, len(recs), st)
		}
		for i, r := range recs {
			id := uint64(i + 1)
			want := winevent.Record{
				Provider: winevent.ProviderSysmon, EventID: uint16(1 + (i%50)%3), Version: 5, RecordID: id,
				Channel: "Test/Operational", Computer: "host.example",
				TimeCreated: filetimeToTime(132000000000000000 + uint64(1+(i%50)%3)),
				UserID:      "S-1-5-18", ProcessID: 1234, ThreadID: 5678,
				Data: []winevent.Data{{Name: "Image", Value: fmt.Sprintf(`C:\bin\p%d.exe`, id)}, {Name: "CommandLine", Value: fmt.Sprintf("p%d.exe -x", id)}, {Name: "ProcessId", Value: fmt.Sprint(id)}},
			}
			if got, w := fmt.Sprintf("%+v", r), fmt.Sprintf("%+v", want); got != w {
				t.Fatalf("workers %d record %d:\n got %s\nwant %s", workers, i, got, w)
			}
		}
	}
}

func TestFilterAndResume(t *testing.T) {
	file := buildFile([][]byte{sampleChunk(1, 30), sampleChunk(31, 30), sampleChunk(61, 30)}, 3, 0)
	var calls int
	recs, _, st := decodeBytes(t, file, Options{Workers: 1, Filter: func(p string, id uint16) bool {
		calls++
		return p == winevent.ProviderSysmon && id == 2
	}})
	if len(recs) != 30 || st.Filtered != 60 || calls != 90 {
		t.Fatalf("filter: %d records, %d filtered, %d calls", len(recs), st.Filtered, calls)
	}
	for _, r := range recs {
		if r.EventID != 2 || len(r.Data) != 3 {
			t.Fatalf("filter let through %+v", r)
		}
	}
	// The position after record 45 (the 15th of chunk 1) resumes with 46.
	r, err := NewReader(bytes.NewReader(file), int64(len(file)), "t", Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for r.Next(context.Background()) && r.Record().RecordID != 45 {
	}
	at := r.Position()
	r.Close()
	if at.Chunk != 1 || at.Check == 0 {
		t.Fatalf("position of record 45: %+v", at)
	}
	recs, _, st = decodeBytes(t, file, Options{Workers: 2, Start: at})
	if len(recs) != 45 || recs[0].RecordID != 46 || st.ChunksSkipped != 1 || st.Resumed != 15 {
		t.Fatalf("resume: %d records, first %d, stats %+v", len(recs), recs[0].RecordID, st)
	}
}

var ftRef = time.Date(2019, 3, 19, 23, 34, 26, 953512400, time.UTC)

func TestValueRendering(t *testing.T) {
	le := binary.LittleEndian
	guid := []byte{0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 1, 2, 3, 4, 5, 6, 7, 8}
	// SYSTEMTIME: 2019 (0x07e3), March, Tuesday, the 19th, 23:34:26.123.
	systime := []byte{0xe3, 0x07, 3, 0, 2, 0, 19, 0, 23, 0, 34, 0, 26, 0, 0x7b, 0}
	cases := []struct {
		v    val
		want string
	}{
		{val{tNull, nil}, ""},
		{vStr("héllo wörld"), "héllo wörld"},
		{val{tString, []byte{0x3d, 0xd8, 0x00, 0xde, 0x00, 0xd8, 'a', 0}}, "😀\uFFFDa"},
		{val{tAnsiString, []byte("abc\x00")}, "abc"},
		{val{tAnsiString, []byte{'a', 0xe9}}, "aé"},
		{val{tInt8, []byte{0xff}}, "-1"},
		{vU8(200), "200"},
		{val{tInt16, le.AppendUint16(nil, 0xfffe)}, "-2"},
		{vU16(65535), "65535"},
		{val{tInt32, le.AppendUint32(nil, 0xfffffffd)}, "-3"},
		{vU32(4000000000), "4000000000"},
		{val{tInt64, le.AppendUint64(nil, math.MaxUint64)}, "-1"},
		{vU64(math.MaxUint64), "18446744073709551615"},
		{val{tReal32, le.AppendUint32(nil, math.Float32bits(1.5))}, "1.5"},
		{val{tReal64, le.AppendUint64(nil, math.Float64bits(-0.25))}, "-0.25"},
		{val{tBool, []byte{1, 0, 0, 0}}, "true"},
		{val{tBool, []byte{0}}, "false"},
		{val{tBinary, []byte{0xde, 0xad, 0x01}}, "DEAD01"},
		{val{tGUID, guid}, "{12345678-9ABC-DEF0-0102-030405060708}"},
		{val{tSizeT, le.AppendUint64(nil, 0x1f)}, "0x1f"},
		{val{tSizeT, le.AppendUint32(nil, 0x20)}, "0x20"},
		{vFileTime(uint64(ftRef.Unix()+11644473600)*1e7 + uint64(ftRef.Nanosecond()/100)), "2019-03-19T23:34:26.9535124Z"},
		{val{tSysTime, systime}, "2019-03-19T23:34:26.123Z"},
		{vSID(5, 21, 1, 2, 500), "S-1-5-21-1-2-500"},
		{val{tHexInt32, le.AppendUint32(nil, 0x1410)}, "0x1410"},
		{vHex64(0x3e7), "0x3e7"},
		{val{tString | tArray, append(append(toUTF16("a"), 0, 0), append(toUTF16("bc"), 0, 0)...)}, "a,bc"},
		{val{tUint16 | tArray, []byte{1, 0, 2, 0}}, "1,2"},
		{val{tHexInt64 | tArray, le.AppendUint64(le.AppendUint64(nil, 1), 255)}, "0x1,0xff"},
		{val{tGUID | tArray, append(append([]byte{}, guid...), guid...)}, "{12345678-9ABC-DEF0-0102-030405060708},{12345678-9ABC-DEF0-0102-030405060708}"},
		{val{tSID | tArray, append(vSID(5, 18).b, vSID(5, 19).b...)}, "S-1-5-18,S-1-5-19"},
		{val{tUint32, []byte{1, 2}}, "0102"}, // too short: raw hex, no failure
	}
	cb := newChunkBuilder()
	for i, c := range cases {
		vals := append(systemVals("P", 1), c.v)
		cb.record(uint64(i+1), "v", eventTemplate("v"), vals)
	}
	recs, errs, _ := decodeBytes(t, buildFile([][]byte{cb.bytes()}, 1, 0), Options{Workers: 1})
	if len(errs) > 0 || len(recs) != len(cases) {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
	for i, c := range cases {
		if got := recs[i].Data[0].Value; got != c.want {
			t.Errorf("type %#x %x: got %q want %q", c.v.typ, c.v.b, got, c.want)
		}
	}
}

func TestTokensAndDump(t *testing.T) {
	cb := newChunkBuilder()
	// Raw BinXML (no template) with CDATA, character and entity references,
	// a processing instruction and UserData.
	cdata := []byte{tokCDATA}
	cdata = binary.LittleEndian.AppendUint16(cdata, 3)
	cdata = append(cdata, toUTF16("x<y")...)
	charRef := binary.LittleEndian.AppendUint16([]byte{tokCharRef}, 'Z')
	body := el("Event", nil,
		el("System", nil,
			el("Provider", []xa{attr("Name", txt("Raw"))}),
			el("EventID", nil, txt("4688")),
			el("TimeCreated", []xa{attr("SystemTime", txt("2020-01-02T03:04:05.5Z"))}),
		),
		el("UserData", nil,
			el("Inner", []xa{attr("xmlns", txt("urn:x"))},
				el("A", nil, txt("a1"), rawTok(cdata...), rawTok(charRef...)),
				el("B", []xa{attr("k", txt("v"))}),
			),
		),
	)
	cb.rawRecord(7, body)
	// An entity reference inside a raw record's EventData.
	cb.rawRecord(8, el("Event", nil, el("EventData", nil, el("Data", []xa{attr("Name", txt("E"))}, txt("1"), rawTok(tokEntityRef)))))
	// Patch: the entity token needs a name reference right after it, written
	// at its final position because inline names are position-dependent.
	c := cb.c
	i := bytes.LastIndexByte(c, tokEntityRef)
	tail := append([]byte{}, c[i+1:]...)
	cb.c = c[:i+1]
	cb.name("amp")
	cb.c = append(cb.c, tail...)
	fixRecordSize(cb, 8)
	// A processing instruction whose target refers back to a name defined
	// by record 7.
	pi := binary.LittleEndian.AppendUint32([]byte{tokPITarget}, cb.names["Inner"])
	pi = binary.LittleEndian.AppendUint16(append(pi, tokPIData), 3)
	pi = append(pi, toUTF16("d=1")...)
	cb.rawRecord(9, el("Event", nil, el("EventData", nil, rawTok(pi...))))
	file := buildFile([][]byte{cb.bytes()}, 1, 0)
	recs, errs, _ := decodeBytes(t, file, Options{Workers: 1})
	if len(errs) > 0 || len(recs) != 3 {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
	r := recs[0]
	if r.Provider != "Raw" || r.EventID != 4688 || !r.TimeCreated.Equal(time.Date(2020, 1, 2, 3, 4, 5, 5e8, time.UTC)) {
		t.Errorf("system: %+v", r)
	}
	if got := fmt.Sprint(r.Data); got != "[{A a1x<yZ} {B.k v}]" {
		t.Errorf("user data: %s", got)
	}
	if got := fmt.Sprint(recs[1].Data); got != "[{E 1&}]" {
		t.Errorf("entity: %s", got)
	}

	path := filepath.Join(t.TempDir(), "tokens.evtx")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	var xb, jb bytes.Buffer
	if err := Dump(context.Background(), &xb, path, "xml"); err != nil {
		t.Fatal(err)
	}
	if err := Dump(context.Background(), &jb, path, "json"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<A>a1<![CDATA[x<y]]>Z</A><B k="v"/>`,
		`<Inner xmlns="urn:x">`,
		`<Data Name="E">1&amp;</Data>`,
		`<EventData><?Inner d=1?></EventData>`,
	} {
		if !strings.Contains(xb.String(), want) {
			t.Errorf("XML dump lacks %s:\n%s", want, xb.String())
		}
	}
	if want := `"Data":[{"Name":"A","Value":"a1x<yZ"},{"Name":"B.k","Value":"v"}]`; !strings.Contains(jb.String(), want) {
		t.Errorf("JSON dump lacks %s:\n%s", want, jb.String())
	}
	if err := Dump(context.Background(), &xb, path, "yaml"); err == nil {
		t.Error("unknown format accepted")
	}
}

// fixRecordSize recomputes the size fields of the last record after a patch.
func fixRecordSize(cb *chunkBuilder, id uint64) {
	start := cb.lastOff
	cb.c = cb.c[:len(cb.c)-4] // drop the old size copy
	for len(cb.c)%8 != 4 {
		cb.u8(0)
	}
	size := len(cb.c) + 4 - start
	cb.u32(uint32(size))
	binary.LittleEndian.PutUint32(cb.c[start+4:], uint32(size))
}

func TestBrokenSynthetic(t *testing.T) {
	good := sampleChunk(1, 10)

	badMagic := append([]byte{}, good...)
	copy(badMagic, "ElfJunk\x00")

	badData := sampleChunk(11, 10)
	badData[chunkHeaderSize+200] ^= 0xff // inside record 11's values

	badHeader := sampleChunk(21, 10)
	badHeader[100] ^= 0xff

	// A zero-size record between good ones; the neighbours must survive.
	cb := newChunkBuilder()
	tmpl := eventTemplate("X")
	cb.record(31, "ev", tmpl, append(systemVals("P", 1), vStr("a")))
	zeroAt := len(cb.c)
	cb.record(32, "ev", tmpl, append(systemVals("P", 1), vStr("b")))
	cb.record(33, "ev", tmpl, append(systemVals("P", 1), vStr("c")))
	zero := cb.bytes()
	binary.LittleEndian.PutUint32(zero[zeroAt+4:], 0)
	binary.LittleEndian.PutUint32(zero[52:], crc32.ChecksumIEEE(zero[chunkHeaderSize:binary.LittleEndian.Uint32(zero[48:])]))
	fixChunkCRC(zero)

	// Garbage values: count far beyond the record, a recursive template and
	// an element nesting bomb.
	cb = newChunkBuilder()
	cb.record(41, "ev", tmpl, append(systemVals("P", 1), vStr("ok")))
	cb.bytesRecord(42, []byte{tokFragmentHeader, 1, 1, 0, tokTemplate, 1, 0, 0, 0, 0, 0x10, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	huge := []byte{tokFragmentHeader, 1, 1, 0, tokTemplate, 1, 0, 0, 0, 0}
	huge = binary.LittleEndian.AppendUint32(huge, cb.tmpl["ev"])
	cb.bytesRecord(46, binary.LittleEndian.AppendUint32(huge, 0xffffff))
	deep := el("Leaf", nil, txt("x"))
	for i := 0; i < 100; i++ {
		deep = el("D", nil, deep)
	}
	cb.rawRecord(43, deep)
	// Template whose body instantiates a template (itself).
	rec := len(cb.c)
	cb.record(44, "self", el("Event", nil, rawTok(tokTemplate, 1, 0, 0, 0, 0, 0, 0, 0, 0)), nil)
	defOff := binary.LittleEndian.Uint32(cb.c[rec+recordHeaderSize+4+6:])
	selfRef := bytes.Index(cb.c[rec:], []byte{tokTemplate, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	binary.LittleEndian.PutUint32(cb.c[rec+selfRef+6:], defOff)
	cb.record(45, "ev", tmpl, append(systemVals("P", 1), vStr("still here")))
	garbage := cb.bytes()

	file := buildFile([][]byte{good, badMagic, badData, badHeader, zero, garbage}, 2, FlagDirty)
	file = append(file, garbage[:1000]...) // truncated trailing chunk
	recs, errs, st := decodeBytes(t, file, Options{Workers: 2})
	ids := map[uint64]bool{}
	for _, r := range recs {
		ids[r.RecordID] = true
	}
	for _, id := range []uint64{1, 10, 12, 20, 21, 30, 31, 33, 41, 45} {
		if !ids[id] {
			t.Errorf("record %d lost", id)
		}
	}
	type want struct {
		chunk  int
		record uint64
		err    error
	}
	wants := []want{
		{1, 0, ErrBadChunkMagic},
		{2, 0, ErrDataChecksum},
		{3, 0, ErrHeaderChecksum},
		{4, 32, ErrZeroSize},
		{5, 42, ErrBadOffset},
		{5, 46, ErrTooLarge},
		{5, 43, ErrDepth},
		{5, 44, ErrRecursion},
		{6, 0, ErrTruncated},
		{6, 41, ErrRecordSize},
	}
	for _, w := range wants {
		found := false
		for _, e := range errs {
			var re *RecordError
			var ce *ChunkError
			switch {
			case errors.As(e, &re):
				found = found || re.Chunk == w.chunk && re.Record == w.record && errors.Is(e, w.err) && re.File == "mem.evtx"
			case errors.As(e, &ce):
				found = found || w.record == 0 && ce.Chunk == w.chunk && errors.Is(e, w.err)
			}
		}
		if !found {
			t.Errorf("missing error %v for chunk %d record %d", w.err, w.chunk, w.record)
		}
	}
	if t.Failed() {
		for _, e := range errs {
			t.Log(e)
		}
	}
	if st.BadMagicChunks != 1 || st.ChecksumErrors != 2 {
		t.Errorf("stats %+v", st)
	}
	if !strings.Contains(fmt.Sprint(errs), "chunk 5 record 44") {
		t.Errorf("errors do not name chunk and record: %v", errs)
	}
}

// TestExpansionBomb: a template that repeats a nested BinXML value, nested
// many times, must stop at the per-record budget instead of expanding
// exponentially, and must not cost its neighbours.
func TestExpansionBomb(t *testing.T) {
	le := binary.LittleEndian
	tmpl := el("Event", nil, el("UserData", nil, sub(0, tBinXML), sub(0, tBinXML), sub(0, tBinXML), sub(0, tBinXML)))
	cb := newChunkBuilder()
	cb.record(1, "bomb", tmpl, []val{{tBinXML, []byte{tokFragmentHeader, 1, 1, 0, tokValue, tString, 1, 0, 'x', 0, tokEOF}}})
	def := cb.tmpl["bomb"]
	blob := []byte{tokFragmentHeader, 1, 1, 0, tokValue, tString, 1, 0, 'x', 0, tokEOF}
	for i := 0; i < 30; i++ {
		next := []byte{tokFragmentHeader, 1, 1, 0, tokTemplate, 1}
		next = le.AppendUint32(next, 0x1234)
		next = le.AppendUint32(next, def)
		next = le.AppendUint32(next, 1)
		next = le.AppendUint16(next, uint16(len(blob)))
		next = append(next, tBinXML, 0)
		next = append(next, blob...)
		blob = append(next, tokEOF)
	}
	cb.bytesRecord(2, blob[:len(blob)-1])
	cb.record(3, "bomb", tmpl, []val{{tBinXML, []byte{tokFragmentHeader, 1, 1, 0, tokValue, tString, 1, 0, 'y', 0, tokEOF}}})
	start := time.Now()
	recs, errs, _ := decodeBytes(t, buildFile([][]byte{cb.bytes()}, 1, 0), Options{Workers: 1})
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("decoding took %v", el)
	}
	if len(recs) != 2 || recs[0].RecordID != 1 || recs[1].RecordID != 3 {
		t.Errorf("neighbours: %+v", recs)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrTooLarge) && !errors.Is(errs[0], ErrDepth) {
		t.Errorf("errors: %v", errs)
	}
	t.Log(errs)
}

func TestCancelAndClose(t *testing.T) {
	var chunks [][]byte
	for i := 0; i < 20; i++ {
		chunks = append(chunks, sampleChunk(uint64(1+i*40), 40))
	}
	file := buildFile(chunks, 20, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := NewReader(bytes.NewReader(file), int64(len(file)), "mem.evtx", Options{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var last uint64
	for r.Next(ctx) {
		if id := r.Record().RecordID; id != last+1 {
			t.Fatalf("record %d after %d: out of order", id, last)
		}
		last = r.Record().RecordID
		if n++; n == 100 {
			cancel()
		}
	}
	if !errors.Is(r.Err(), context.Canceled) || n < 100 || n > 140 {
		t.Errorf("after cancel: n=%d err=%v", n, r.Err())
	}
	done := make(chan error)
	go func() { done <- r.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
	if r.Next(context.Background()) {
		t.Error("Next after Close")
	}
}

// TestEmptyChunkResults: runs of chunks that keep no record (more than the
// workers' empty results) among chunks that keep some, errors among
// them, decode to the same records, errors (in order) and counts with
// parallel workers as with one.
func TestEmptyChunkResults(t *testing.T) {
	chunk := func(firstID uint64, eventID uint16) []byte {
		cb := newChunkBuilder()
		tmpl := eventTemplate("Image", "CommandLine", "ProcessId")
		for i := range 5 {
			id := firstID + uint64(i)
			cb.record(id, "ev", tmpl, append(systemVals(winevent.ProviderSysmon, eventID),
				vStr(fmt.Sprintf(`C:\bin\p%d.exe`, id)), vStr(fmt.Sprintf("p%d.exe -x", id)), vU32(uint32(id))))
		}
		return cb.bytes()
	}
	const n = 3*emptyPerWorker + 60
	chunks := make([][]byte, n)
	for k := range chunks {
		ev := uint16(7) // dropped by the filter
		if k%97 == 3 || k == 150 || k == 151 {
			ev = 1
		}
		chunks[k] = chunk(uint64(k*5+1), ev)
	}
	chunks[200][chunkHeaderSize+200] ^= 0xff // a data checksum error in a run of empty chunks
	copy(chunks[230], "ElfJunk\x00")
	file := buildFile(chunks, n, 0)
	keep := func(p string, id uint16) bool { return id == 1 }
	want, wantErrs, wantSt := decodeBytes(t, file, Options{Workers: 1, Filter: keep})
	if len(want) != 5*5 || len(wantErrs) != 2 || wantSt.Filtered != 5*(n-6) {
		t.Fatalf("one worker: %d records, errors %v, stats %+v", len(want), wantErrs, wantSt)
	}
	for _, workers := range []int{2, 3} {
		got, errs, st := decodeBytes(t, file, Options{Workers: workers, Filter: keep})
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Errorf("workers %d: records differ", workers)
		}
		if fmt.Sprint(errs) != fmt.Sprint(wantErrs) || st != wantSt {
			t.Errorf("workers %d: errors %v, stats %+v; want %v, %+v", workers, errs, st, wantErrs, wantSt)
		}
	}
}
