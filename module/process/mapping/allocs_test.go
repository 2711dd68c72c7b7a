package mapping_test

import (
	"testing"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/winevent"
)

// TestNoGarbagePerDocument: once the scenario's processes are tracked,
// mapping its end and access records again allocates nothing per
// document (issue 17): their values come from the tracker, the record
// and the Mapper's arena, whose blocks cost a small share of an allocation
// per document (AllocsPerRun rounds that down to 0).
func TestNoGarbagePerDocument(t *testing.T) {
	recs := readRecords(t, "testdata/scenario.xml")
	m := newMapper(tracker.New(tracker.Options{}))
	var doc document.Document
	for i := range recs {
		_, _ = m.Map(&recs[i], &doc)
	}
	for _, id := range []uint16{5, 10, 4689} {
		var rec *winevent.Record
		for i := range recs {
			if recs[i].EventID == id {
				rec = &recs[i]
				break
			}
		}
		if rec == nil {
			t.Fatalf("scenario has no event %d", id)
		}
		var kind mapping.Kind
		allocs := testing.AllocsPerRun(200, func() {
			kind, _ = m.Map(rec, &doc)
		})
		if kind == mapping.None {
			t.Fatalf("event %d maps to no document", id)
		}
		if allocs != 0 {
			t.Errorf("event %d: %v allocations per document, want 0", id, allocs)
		}
	}
}
