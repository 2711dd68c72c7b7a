package elasticsearch_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/output/elasticsearch"
	"github.com/procbeat/procbeat/output/elasticsearch/esfake"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

// crashSeeds make TestCrashRestart reproducible: each seed fixes the fault
// pattern of the fake and where and how each run is killed.
var crashSeeds = []uint64{
	11, 23, 37, 41, 59, 61, 73, 89, 97, 101,
	113, 127, 131, 149, 151, 163, 179, 181, 193, 197,
}

type killMode int

const (
	killCancel    killMode = iota // context cancelled, then Close (registry flushed)
	killHard                      // file system dies, context cancelled: nothing more on disk
	killMidRename                 // crash between temp-file write and rename
	killModes
)

// TestCrashRestart kills the pipeline at random points and restarts it
// from the registry until every source is read to its end, then checks: no
// document lost, none stored twice, dead-letter = rejected ids, registry
// readable and at the end of every source; at every registry write, no
// checkpoint past an unacknowledged event.
func TestCrashRestart(t *testing.T) {
	for _, seed := range crashSeeds {
		t.Run("seed="+itoa(seed), func(t *testing.T) { crashRestart(t, seed) })
	}
}

func itoa(v uint64) string { return strconvU(v) }

func crashRestart(t *testing.T, seed uint64) {
	const perSource = 400
	sources := []string{"evtx:one", "evtx:two", "live:Sysmon"}
	rng := rand.New(rand.NewPCG(seed, 0))
	reject := rejectEvery(29)
	fake := esfake.New(esfake.Faults{
		Seed: seed, RequestStatus: 0.05, DropBefore: 0.03, DropAfter: 0.03,
		Slow: 0.02, SlowDelay: 200 * time.Millisecond, Item429: 0.03, Reject: reject,
	})
	defer fake.Close()
	dir := t.TempDir()
	regPath := filepath.Join(dir, "data", "registry")
	dlqPath := filepath.Join(dir, "dead-letter.ndjson")
	cfs := newCheckingFS(t, fake, reject, dlqPath)
	client := newClientRetry(t, fake.URL, rng.IntN(2) == 0)

	kills := 0
	for run := 0; ; run++ {
		if run > 30 {
			t.Fatalf("not finished after %d runs", run)
		}
		final := run >= 3+rng.IntN(3) // the last run is not killed
		mode := killMode(rng.IntN(int(killModes)))
		cfs.mu.Lock()
		cfs.dead, cfs.renames, cfs.crashAt = false, 0, 0
		if !final && mode == killMidRename {
			cfs.crashAt = 1 + rng.IntN(6)
		}
		cfs.mu.Unlock()

		reg, err := registry.Open(regPath, registry.Options{FS: cfs})
		if err != nil {
			t.Fatalf("run %d: registry unreadable after a crash: %v", run, err)
		}
		if temps, _ := filepath.Glob(regPath + ".tmp-*"); len(temps) != 0 {
			t.Fatalf("run %d: stale temp files left after Open: %v", run, temps)
		}
		counters := &monitoring.Counters{}
		cfg := fastConfig(dlqPath)
		cfg.BulkMaxSize = 16 + rng.IntN(48)
		cfg.Timeout = 100 * time.Millisecond
		out, err := elasticsearch.New(client, cfg, counters, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		p := pipeline.New(ctx, out, reg, pipeline.Options{
			MaxBytesInFlight:     32 << 10,
			CheckpointEveryBatch: rng.IntN(2) == 0,
			CheckpointInterval:   5 * time.Millisecond,
			Counters:             counters,
			DrainTimeout:         10 * time.Second,
		})
		var wg sync.WaitGroup
		for _, src := range sources {
			start := uint64(1)
			if pos, ok := reg.Position(src); ok {
				start = pos.Offset + 1
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := p.Client(src)
				for off := start; off <= perSource; off++ {
					if err := c.Publish(ctx, makeEvent(src, off)); err != nil {
						if !final {
							return // killed
						}
						t.Errorf("final run: publish %s %d: %v", src, off, err)
						return
					}
				}
			}()
		}

		if final {
			wg.Wait()
			if err := p.Close(); err != nil {
				t.Fatalf("final run close: %v", err)
			}
			cancel()
			break
		}
		// Kill after a random delay, or at the injected rename crash.
		delay := time.Duration(1+rng.IntN(40)) * time.Millisecond
		deadline := time.After(delay)
		if mode == killMidRename {
			deadline = time.After(300 * time.Millisecond) // the crash normally comes first
			for !cfs.isDead() {
				select {
				case <-deadline:
					cfs.kill()
				case <-time.After(time.Millisecond):
				}
			}
		} else {
			<-deadline
		}
		kills++
		switch mode {
		case killCancel:
			cancel()
		case killHard, killMidRename:
			cfs.kill()
			cancel()
		}
		_ = p.Close() // reaps goroutines; reports the unacknowledged events
		wg.Wait()
	}

	// Registry: readable, at the end of every source.
	reg, err := registry.Open(regPath, registry.Options{})
	if err != nil {
		t.Fatalf("registry after the final run: %v", err)
	}
	for _, src := range sources {
		if pos, ok := reg.Position(src); !ok || pos.Offset != perSource {
			t.Errorf("registry %s = %+v, want offset %d", src, pos, perSource)
		}
	}
	// No loss, no duplicates: every non-rejected id stored (the fake stores
	// an id at most once and answers 409 after that), with its body.
	rejected := map[string]bool{}
	for _, src := range sources {
		for off := uint64(1); off <= perSource; off++ {
			ev := makeEvent(src, off)
			if reject(ev.Index, ev.ID) {
				rejected[ev.ID] = true
				continue
			}
			if b, ok := fake.Doc(ev.Index, ev.ID); !ok || string(b) != string(ev.Body) {
				t.Errorf("lost or altered: %s", ev.ID)
			}
		}
	}
	if got, want := fake.Len(), perSource*len(sources)-len(rejected); got != want {
		t.Errorf("fake holds %d documents, want %d", got, want)
	}
	// Dead letters: exactly the rejected ids (a replay after a crash may
	// record one again; none may be missing or foreign).
	got := map[string]bool{}
	for _, l := range readDLQ(t, dlqPath) {
		if !rejected[l.ID] {
			t.Errorf("dead-letter holds %s, which was not rejected", l.ID)
		}
		got[l.ID] = true
	}
	if len(got) != len(rejected) {
		t.Errorf("dead-letter holds %d distinct ids, want %d", len(got), len(rejected))
	}
	if _, err := os.Stat(regPath); err != nil {
		t.Error(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(regPath))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".corrupt-") {
			t.Errorf("registry was found corrupt at some point: %s", e.Name())
		}
	}
	st := fake.Stats()
	t.Logf("seed %d: %d kills, registry writes checked %d, fake %+v", seed, kills, cfs.writes, st)
	if kills == 0 {
		t.Error("never killed")
	}
	_ = errors.New
}
