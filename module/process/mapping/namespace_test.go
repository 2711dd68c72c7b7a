package mapping_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/tracker"
)

// TestIndexIn: each namespace's data streams are the mapper's own for its
// namespace (or none), and another namespace's, made once, cost no
// allocation per document afterwards.
func TestIndexIn(t *testing.T) {
	m := mapping.New(tracker.New(tracker.Options{}), mapping.Options{Namespace: "prod"})
	for _, k := range []mapping.Kind{mapping.Start, mapping.End, mapping.Access} {
		if got, want := m.IndexIn(k, ""), m.Index(k); got != want {
			t.Errorf("IndexIn(%v, \"\") = %s, want %s", k, got, want)
		}
		if got, want := m.IndexIn(k, "prod"), m.Index(k); got != want {
			t.Errorf("IndexIn(%v, prod) = %s, want %s", k, got, want)
		}
	}
	for k, want := range map[mapping.Kind]string{
		mapping.Start:  "logs-" + mapping.ProcessDataset + "-lab",
		mapping.End:    "logs-" + mapping.ProcessDataset + "-lab",
		mapping.Access: "logs-" + mapping.APIDataset + "-lab",
	} {
		if got := m.IndexIn(k, "lab"); got != want {
			t.Errorf("IndexIn(%v, lab) = %s, want %s", k, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		_ = m.IndexIn(mapping.Start, "lab")
		_ = m.IndexIn(mapping.Access, "prod")
	}); n != 0 {
		t.Errorf("%.1f allocations per document of another namespace", n)
	}
}

// TestIndexInConcurrent: the publishers of concurrent runs (live channels
// of inputs with namespaces of their own) ask for data streams at once;
// run with -race.
func TestIndexInConcurrent(t *testing.T) {
	m := mapping.New(tracker.New(tracker.Options{}), mapping.Options{Namespace: "prod"})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				ns := fmt.Sprintf("ns%d", (i+g)%7)
				if got, want := m.IndexIn(mapping.Start, ns), "logs-endpoint.events.process-"+ns; got != want {
					t.Errorf("IndexIn(Start, %s) = %s, want %s", ns, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
