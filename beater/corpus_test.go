package beater_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/testing/corpus"
)

// captureOutput keeps every delivered document.
type captureOutput struct {
	mu   sync.Mutex
	docs [][]byte
}

func (c *captureOutput) Limits() pipeline.Limits { return pipeline.Limits{MaxEvents: 512} }
func (c *captureOutput) Close() error            { return nil }
func (c *captureOutput) Publish(_ context.Context, evs []pipeline.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range evs {
		c.docs = append(c.docs, append([]byte(nil), e.Body...))
	}
	return nil
}

// TestCorpus replays every EVTX and JSON file of the shared corpus: the
// documents per type equal the manifest's counts, every document holds only
// catalog fields of the catalog's types, and end events carry their start's
// fields whenever the start was seen.
func TestCorpus(t *testing.T) {
	dir := corpus.Require(t)
	man, err := corpus.Manifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var want corpus.Counts
	for rel, e := range man {
		// Archives are counted in the manifest but replay reads files.
		if ext := filepath.Ext(rel); ext == ".zip" || ext == ".gz" {
			continue
		}
		paths = append(paths, filepath.Join(dir, rel))
		want.SysmonEID1 += e.SysmonEID1
		want.SysmonEID5 += e.SysmonEID5
		want.SysmonEID10 += e.SysmonEID10
		want.Sec4688 += e.Sec4688
		want.Sec4689 += e.Sec4689
	}
	out := &captureOutput{}
	// One document per record, as the manifest counts them: Sysmon and
	// Security twins kept apart (merge_test.go covers merging).
	cfg := config.Default()
	cfg.Procbeat.MergeSources = false
	b, err := beater.NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, out, beater.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := b.Replay(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	type startFields struct{ executable, commandLine, parent string }
	starts := map[string]startFields{}
	var ends []map[string]any
	bad := 0
	for _, raw := range out.docs {
		var d map[string]any
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		ev := d["event"].(map[string]any)
		got[ev["code"].(string)]++
		ds := ev["dataset"].(string)
		for _, err := range cat.Validate(ds, raw) {
			if bad++; bad < 20 {
				t.Errorf("%s: %v", ds, err)
			}
		}
		p, _ := d["process"].(map[string]any)
		id, _ := p["entity_id"].(string)
		switch ev["action"] {
		case "start":
			parent, _ := p["parent"].(map[string]any)
			pe, _ := parent["entity_id"].(string)
			cl, _ := p["command_line"].(string)
			starts[id] = startFields{p["executable"].(string), cl, pe}
		case "end":
			ends = append(ends, p)
		}
	}
	for code, n := range map[string]int{"1": want.SysmonEID1, "5": want.SysmonEID5, "10": want.SysmonEID10, "4688": want.Sec4688, "4689": want.Sec4689} {
		if got[code] != n {
			t.Errorf("event code %s: %d documents, manifest says %d", code, got[code], n)
		}
	}
	enriched := 0
	for _, p := range ends {
		id, _ := p["entity_id"].(string)
		s, seen := starts[id]
		if !seen || id == "" {
			continue
		}
		cl, _ := p["command_line"].(string)
		parent, _ := p["parent"].(map[string]any)
		pe, _ := parent["entity_id"].(string)
		if cl != s.commandLine || pe != s.parent {
			t.Errorf("end of %s lost its start's fields: command_line %q (start %q), parent %q (start %q)", id, cl, s.commandLine, pe, s.parent)
		}
		enriched++
	}
	if enriched == 0 {
		t.Error("no end event found its start: the check proves nothing")
	}
	t.Logf("%d files, %d documents, %d end events carried their start; summary %+v", len(paths), len(out.docs), enriched, sum)
}
