package evtx

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/winevent"
)

// decodeBoth decodes one chunk (or any bytes taken as one) twice, through
// template plans and by walking every tree, and reports the first
// difference in records, errors or counts.
func decodeBoth(data []byte) error {
	if len(data) > chunkSize {
		data = data[:chunkSize]
	}
	run := func(noPlan bool) (*chunkResult, []string) {
		opts := Options{Filter: func(string, uint16) bool { return true }}
		d := newDecoder("plan", &opts)
		d.noPlan = noPlan
		res := &chunkResult{}
		d.decodeChunk(0, 0, data, res)
		errs := make([]string, len(res.errs))
		for i, e := range res.errs {
			errs[i] = e.Error()
		}
		return res, errs
	}
	a, aerrs := run(false)
	b, berrs := run(true)
	if a.n != b.n || a.stats != b.stats {
		return fmt.Errorf("plan: %d records %+v; walk: %d records %+v", a.n, a.stats, b.n, b.stats)
	}
	if !reflect.DeepEqual(aerrs, berrs) {
		return fmt.Errorf("errors differ:\nplan: %q\nwalk: %q", aerrs, berrs)
	}
	for i := 0; i < a.n; i++ {
		ra, rb := a.records[i], b.records[i]
		if len(ra.Data) == 0 && len(rb.Data) == 0 {
			ra.Data, rb.Data = nil, nil
		}
		if !reflect.DeepEqual(ra, rb) {
			return fmt.Errorf("record %d differs:\nplan: %+v\nwalk: %+v", i, ra, rb)
		}
	}
	return nil
}

// TestPlanMatchesWalk decodes every chunk of every corpus file both ways:
// template plans are an optimisation and must not change any record, error
// or count.
func TestPlanMatchesWalk(t *testing.T) {
	dir := corpus.Require(t)
	var files []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(strings.ToLower(p), ".evtx") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	chunks := 0
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for off := fileHeaderBlock; off < len(b); off += chunkSize {
			chunks++
			if err := decodeBoth(b[off:min(off+chunkSize, len(b))]); err != nil {
				rel, _ := filepath.Rel(dir, p)
				t.Errorf("%s chunk %d: %v", rel, (off-fileHeaderBlock)/chunkSize, err)
			}
		}
	}
	t.Logf("%d files, %d chunks", len(files), chunks)
}

// TestPlanNested: Data elements without a Name are numbered across a
// nested template instance (a BinXML value) and the template around it,
// the same whether the value is BinXML or not.
func TestPlanNested(t *testing.T) {
	tmpl := el("Event", nil, el("System", nil, el("Provider", []xa{attr("Name", sub(0, tString))}), el("EventID", nil, sub(1, tUint16))),
		el("EventData", nil, el("Data", nil, sub(2, tString)), sub(3, tBinXML), el("Data", nil, txt("lit"))))
	cb := newChunkBuilder()
	inner := el("Data", nil, sub(0, tString))
	cb.record(1, "inner", inner, []val{vStr("in")})
	le := binary.LittleEndian
	nested := []byte{tokFragmentHeader, 1, 1, 0, tokTemplate, 1}
	nested = le.AppendUint32(nested, 0x1234)
	nested = le.AppendUint32(nested, cb.tmpl["inner"])
	nested = le.AppendUint32(nested, 1)
	in := vStr("in")
	nested = le.AppendUint16(nested, uint16(len(in.b)))
	nested = append(nested, in.typ, 0)
	nested = append(append(nested, in.b...), tokEOF)
	vals := []val{vStr(winevent.ProviderSysmon), vU16(1), vStr("a"), {tBinXML, nested}}
	cb.record(2, "ev", tmpl, vals)
	cb.record(3, "ev", tmpl, append(vals[:3:3], vStr("not binxml")))
	if err := decodeBoth(cb.bytes()); err != nil {
		t.Fatal(err)
	}
	recs, errs, _ := decodeBytes(t, buildFile([][]byte{cb.bytes()}, 1, 0), Options{Workers: 1})
	if len(errs) != 0 || len(recs) != 3 {
		t.Fatalf("records %d, errors %v", len(recs), errs)
	}
	got := fmt.Sprint(recs[1].Data, recs[2].Data)
	if want := "[{param1 a} {param2 in} {param3 lit}] [{param1 a} {param2 lit}]"; got != want {
		t.Errorf("data %s, want %s", got, want)
	}
}

// FuzzPlan compares plans with the tree walk on arbitrary chunks.
func FuzzPlan(f *testing.F) {
	small := sampleChunk(1, 3)
	f.Add(small[:len(small)/2])
	for _, c := range corpusChunkSeeds() {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := decodeBoth(data); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzPlanRecord compares plans with the tree walk on arbitrary BinXML as
// the second record of a chunk whose first record defines a template (as
// FuzzRecord does), so that inputs can instantiate it, nested or not.
func FuzzPlanRecord(f *testing.F) {
	tmpl := el("Event", nil, el("System", nil, el("Provider", []xa{attr("Name", sub(0, tString))}), el("EventID", nil, sub(1, tUint16))),
		el("EventData", nil, el("Data", nil, sub(2, tString)), sub(3, tBinXML), el("Data", []xa{attr("Name", sub(2, tString))}, txt("lit"))))
	vals := []val{vStr(winevent.ProviderSysmon), vU16(1), vStr("a"), vStr("b")}
	seed := newChunkBuilder()
	seed.record(1, "ev", tmpl, vals)
	at := len(seed.c)
	seed.record(2, "ev", tmpl, vals)
	f.Add(seed.c[at+recordHeaderSize : len(seed.c)-4])
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > chunkSize/2 {
			return
		}
		cb := newChunkBuilder()
		cb.record(1, "ev", tmpl, vals)
		cb.bytesRecord(2, data)
		cb.record(3, "ev", tmpl, vals)
		if err := decodeBoth(cb.bytes()); err != nil {
			t.Fatal(err)
		}
	})
}
