package evtx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/winevent"
)

// corpusChunkSeeds returns the start of the first chunk of a few corpus
// files, to keep fuzz inputs small. Empty without corpus.
func corpusChunkSeeds() [][]byte {
	dir, ok := corpus.Dir()
	if !ok {
		return nil
	}
	var out [][]byte
	for _, f := range []string{
		"omerbenamram-evtx/samples/sysmon.evtx",
		"Velocidex-evtx/testdata/Microsoft-Windows-CAPI2_Operational_EventID70.evtx",
		"omerbenamram-evtx/samples/MSExchange_Management_wec.evtx",
		"omerbenamram-evtx/samples/Microsoft-Windows-HelloForBusiness%4Operational.evtx",
		"omerbenamram-evtx/samples/Security_with_size_t.evtx",
		"python-evtx/tests/data/issue_39.evtx",
	} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) < fileHeaderBlock+chunkSize {
			continue
		}
		c := b[fileHeaderBlock : fileHeaderBlock+chunkSize]
		// Go's fuzzer crawls with 64 KiB inputs; the header, the first
		// templates and a few records are enough to reach every path.
		if fs := int(binary.LittleEndian.Uint32(c[48:])); fs > chunkHeaderSize && fs <= chunkSize {
			c = c[:fs]
		}
		c = c[:min(len(c), 4096)]
		out = append(out, c)
	}
	return out
}

// fuzzDecode decodes a chunk with panics let through and renders every
// record as XML and JSON, so all code paths see the input. It decodes the
// chunk again in JSON mode (Dump's) and fails unless that renders the same
// lines and errors as appendRecordJSON of the records.
func fuzzDecode(t *testing.T, data []byte) {
	if len(data) > chunkSize {
		data = data[:chunkSize]
	}
	opts := Options{Filter: func(string, uint16) bool { return true }}
	d := newDecoder("fuzz", &opts)
	d.noRecover = true
	var xmlBuf, lines []byte
	d.onRecord = func(pos, size int, rec *winevent.Record) {
		d.budget = maxVisits
		if root, fr, _, err := d.recordRoot(pos, size); err == nil {
			xmlBuf, _ = d.appendXML(xmlBuf[:0], root, fr, 0)
		}
		lines = append(appendRecordJSON(lines, rec), '\n')
	}
	var res chunkResult
	d.decodeChunk(0, 0, data, &res)
	jd := newDecoder("fuzz", &opts)
	jd.noRecover, jd.json = true, true
	var jres chunkResult
	jd.decodeChunk(0, 0, data, &jres)
	if !bytes.Equal(jres.text, lines) {
		t.Fatalf("JSON mode rendered\n%s\nrecords render as\n%s", jres.text, lines)
	}
	if fmt.Sprint(jres.errs) != fmt.Sprint(res.errs) || jres.stats != res.stats {
		t.Fatalf("JSON mode: errors %v, stats %+v; records: %v, %+v", jres.errs, jres.stats, res.errs, res.stats)
	}
	// Decoded into record slots an earlier chunk filled (decodeRecord
	// stores only what changes), the chunk gives the same records.
	rd := newDecoder("fuzz", &opts)
	rd.noRecover = true
	var rres chunkResult
	rd.decodeChunk(0, 0, dirtyChunk(), &rres)
	rd.decodeChunk(0, 0, data, &rres)
	if got, want := renderResult(&rres), renderResult(&res); got != want {
		t.Fatalf("decoded into used slots:\n%s\nfresh:\n%s", got, want)
	}
}

// dirtyChunk holds records with every System field and more event data
// pairs than most, to leave values in the slots of a chunkResult.
func dirtyChunk() []byte {
	cb := newChunkBuilder()
	names := []string{"A", "B", "C", "D", "E", "F", "G", "H"}
	for i := 0; i < 30; i++ {
		vals := systemVals(winevent.ProviderSecurity, uint16(4688+i%2))
		for j := range names {
			vals = append(vals, vStr(fmt.Sprintf("value %d %d", i, j)))
		}
		cb.record(uint64(100+i), "dirty", eventTemplate(names...), vals)
	}
	return cb.bytes()
}

// renderResult is what a chunkResult delivers: its kept records and
// their ends, its errors and counts.
func renderResult(r *chunkResult) string {
	return fmt.Sprintf("%d %+v %v %v %+v", r.n, r.records[:r.n], r.ends[:r.n], r.errs, r.stats)
}

func FuzzChunk(f *testing.F) {
	small := sampleChunk(1, 3)
	f.Add(small[:binary.LittleEndian.Uint32(small[48:])])
	for _, c := range corpusChunkSeeds() {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, data) })
}

// FuzzRecord puts the input as the BinXML of the second record of a chunk
// whose first record defines a template, so inputs can refer to it.
func FuzzRecord(f *testing.F) {
	tmpl := eventTemplate("A", "B")
	vals := append(systemVals(winevent.ProviderSysmon, 1), vStr("a"), vU32(7))
	prefix := newChunkBuilder()
	prefix.record(1, "ev", tmpl, vals)
	// Seeds: a template instance reusing the template, and a raw record.
	seed := newChunkBuilder()
	seed.record(1, "ev", tmpl, vals)
	at := len(seed.c)
	seed.record(2, "ev", tmpl, vals)
	f.Add(seed.c[at+recordHeaderSize : len(seed.c)-4])
	raw := newChunkBuilder()
	raw.record(1, "ev", tmpl, vals)
	at = len(raw.c)
	raw.rawRecord(2, el("Event", nil, el("System", nil, el("EventID", nil, txt("1"))), el("UserData", nil, el("X", []xa{attr("k", txt("v"))}, txt("y")))))
	f.Add(raw.c[at+recordHeaderSize : len(raw.c)-4])
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > chunkSize/2 {
			return
		}
		cb := newChunkBuilder()
		cb.record(1, "ev", tmpl, vals)
		cb.bytesRecord(2, data)
		cb.record(3, "ev", tmpl, vals)
		fuzzDecode(t, cb.bytes())
	})
}
