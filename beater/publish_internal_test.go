package beater

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/merge"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/testing/corpus"
)

// A document the pipeline refuses stops its source with an error naming
// the file and record, and counts no document, whether the publisher
// works in the reader's goroutine (one core) or in its own, with and
// without the merger.
func TestPublishFailureStopsTheSource(t *testing.T) {
	path := corpus.RequireFile(t, "omerbenamram-evtx/samples/sysmon.evtx")
	for _, procs := range []int{1, 2} {
		for _, merged := range []bool{false, true} {
			prev := runtime.GOMAXPROCS(procs)
			p := pipeline.New(context.Background(), &idOutput{ids: map[string]int{}, accept: -1}, discardCheckpoints{}, pipeline.Options{})
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			tr := tracker.New(tracker.Options{})
			o := RunnerOptions{Mapper: mapping.New(tr, mapping.Options{}), Tracker: tr, Pipeline: p, Codec: "json"}
			if merged {
				o.Merge = &merge.Options{}
			}
			r, err := NewRunner(o)
			if err != nil {
				t.Fatal(err)
			}
			err = r.Run(context.Background(), source.NewFile(path, r.opts))
			runtime.GOMAXPROCS(prev)
			if !errors.Is(err, pipeline.ErrClosed) || !strings.HasPrefix(err.Error(), path+": record ") {
				t.Errorf("GOMAXPROCS=%d merge=%v: got %v, want the file's record and %v", procs, merged, err, pipeline.ErrClosed)
			}
			s := r.Summary()
			for kind, n := range s.Docs {
				if kind != mapping.None.String() && n != 0 {
					t.Errorf("GOMAXPROCS=%d merge=%v: %d %s documents counted, none published", procs, merged, n, kind)
				}
			}
		}
	}
}
