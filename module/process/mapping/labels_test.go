package mapping_test

import (
	"strings"
	"testing"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/tracker"
)

// TestTagsAndLabelsCostNoAllocation: tags and labels are shared by every
// document, so mapping and encoding with them allocates no more than
// without them.
func TestTagsAndLabelsCostNoAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts from pass to pass")
	}
	recs := readRecords(t, "testdata/scenario.xml")
	allocs := func(o mapping.Options) (float64, string) {
		m := mapping.New(tracker.New(tracker.Options{}), o)
		var doc document.Document
		buf := make([]byte, 0, 1<<16)
		n := testing.AllocsPerRun(20, func() {
			for i := range recs {
				if kind, err := m.Map(&recs[i], &doc); err == nil && kind != mapping.None {
					buf = doc.AppendJSON(buf[:0])
				}
			}
		})
		return n, string(buf)
	}
	base, _ := allocs(mapping.Options{Namespace: "test"})
	with, last := allocs(mapping.Options{Namespace: "test", Tags: []string{"case-2291"},
		Labels: document.NewRawObject(map[string]string{"case": "IR-2291"})})
	if with > base {
		t.Errorf("%.1f allocations per pass with tags and labels, %.1f without", with, base)
	}
	if want := `"labels":{"case":"IR-2291"}`; !strings.Contains(last, want) || !strings.Contains(last, `"tags":["case-2291"]`) {
		t.Errorf("document lacks tags or labels: %s", last)
	}
}
