package beater_test

import (
	"testing"
	"time"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/internal/cputime"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/merge"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/winevent"
)

// BenchmarkMergeHold is the merger's share of a replay's per-document
// cost, over the documents of the records BenchmarkDocumentPath reads,
// mapped beforehand: every host is declared to log both Sysmon and
// Security, so that starts and ends are held as a replay of a machine's
// two logs holds them (packed, emitted alone at the window or MaxHeld,
// unpacked), the documents of other kinds pass through. One op is one
// document offered; the emitted documents are not encoded.
func BenchmarkMergeHold(b *testing.B) {
	recs := processRecords(b)
	m := mapping.New(tracker.New(tracker.Options{}), mapping.Options{})
	var items []merge.Item[int]
	hosts := map[string]bool{}
	for i := range recs {
		d := new(document.Document)
		kind, ok := mapped(m, &recs[i], d)
		if !ok {
			continue
		}
		items = append(items, merge.Item[int]{Kind: kind, Doc: d, Logged: recs[i].TimeCreated,
			Image: m.RecordImage(&recs[i]), Ack: len(items)})
		hosts[d.Host.Name] = true
	}
	if len(items) == 0 {
		b.Fatal("no documents")
	}
	newMerger := func() *merge.Merger[int] {
		mg := merge.New[int](merge.Options{Now: func() time.Time { return time.Time{} }})
		for h := range hosts {
			mg.Declare(h, winevent.ProviderSysmon)
			mg.Declare(h, winevent.ProviderSecurity)
		}
		return mg
	}
	// Each document is copied first to the one the merger is given, as
	// replay maps each record into a queue slot: the merger reads a
	// document just written, not one of thousands gone cold. "copy" is
	// that copy alone, to subtract.
	b.Run("copy", func(b *testing.B) {
		var hot document.Document
		mergeLoop(b, items, func(it merge.Item[int]) {
			hot = *it.Doc
		})
		if hot.Event.Provider == "" {
			b.Fatal("no provider")
		}
	})
	b.Run("copy+merge", func(b *testing.B) {
		emitted := 0
		emit := func(_ mapping.Kind, d *document.Document, acks []int) error {
			emitted += len(acks)
			return nil
		}
		var hot document.Document
		mg := newMerger()
		n := 0
		mergeLoop(b, items, func(it merge.Item[int]) {
			hot = *it.Doc
			it.Doc = &hot
			if err := mg.Add(it, emit); err != nil {
				b.Fatal(err)
			}
			if n++; n == len(items) {
				// Event time rewinds here: a new merger, as a new replay.
				if err := mg.Flush(emit); err != nil {
					b.Fatal(err)
				}
				mg, n = newMerger(), 0
			}
		})
		if emitted == 0 {
			b.Fatal("nothing emitted")
		}
	})
}

// mergeLoop offers one item per op, cycling through items, and reports
// CPU time per op.
func mergeLoop(b *testing.B, items []merge.Item[int], op func(merge.Item[int])) {
	b.ReportAllocs()
	cpu0 := cputime.Process()
	i := 0
	for b.Loop() {
		op(items[i])
		if i++; i == len(items) {
			i = 0
		}
	}
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/doc")
}
