package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/testing/estest"
)

// TestWriteBlockLiftedMidReplay puts index.blocks.write on the process
// data stream in the middle of a replay (Elasticsearch answers 403
// cluster_block_exception) and lifts it: procbeat waits, then delivers
// every document exactly once and dead-letters none.
func TestWriteBlockLiftedMidReplay(t *testing.T) {
	c := estest.Start(t)
	e := es{t, c}
	ns := c.Namespace(t)
	setup(t, c)
	input, want := bigInput(t, 1500)
	dataDir := t.TempDir()
	run := startReplay(t, c, c.URL, ns, dataDir, input)

	atBlock := waitForDocs(t, e, processStream(ns), want.total()/10, run)
	e.do(http.MethodPut, "/"+processStream(ns)+"/_settings", map[string]any{"index.blocks.write": true})
	time.Sleep(4 * time.Second)
	if ended, err := run.exited(); ended {
		t.Fatalf("procbeat ended while the index was blocked (%v)\nstderr:\n%s", err, tail(run.stderr(), 30))
	}
	e.do(http.MethodPut, "/"+processStream(ns)+"/_settings", map[string]any{"index.blocks.write": nil})
	if err := run.wait(t, 3*time.Minute); err != nil {
		t.Fatalf("replay across the block: %v\nstderr:\n%s", err, tail(run.stderr(), 30))
	}
	stderr := run.stderr()
	if !strings.Contains(stderr, "is blocked") {
		t.Fatalf("the log shows no wait on the block, so it did not touch procbeat:\n%s", tail(stderr, 20))
	}
	t.Logf("blocked after >= %d of %d documents", atBlock, want.total())
	checkExactlyOnce(t, e, ns, want)
	if data, err := os.ReadFile(filepath.Join(dataDir, "dead-letter.ndjson")); err == nil && len(data) > 0 {
		t.Errorf("documents were dead-lettered during the block:\n%.1000s", data)
	}
	if strings.Contains(stderr, "dead-lettered") {
		t.Errorf("summary reports dead letters:\n%s", tail(stderr, 10))
	}
}

// TestMappingConflictDeadLetteredThenReshipped maps process.pid as an ip
// for one namespace, so that Elasticsearch rejects every process document:
// they are dead-lettered, counted in the summary, and the replay exits 4.
// Once the mapping is fixed, replaying the dead-letter file ships them with
// their _id, and the namespace then holds exactly what a clean replay gives.
func TestMappingConflictDeadLetteredThenReshipped(t *testing.T) {
	c := estest.Start(t)
	e := es{t, c}
	ns := c.Namespace(t)
	setup(t, c)
	broken := "procbeat-test-broken-" + ns
	// No data_stream: the index is a plain one, deleted below when the
	// mapping is fixed.
	e.do(http.MethodPut, "/_index_template/"+broken, map[string]any{
		"index_patterns": []string{processStream(ns)},
		"priority":       1000,
		"template": map[string]any{"mappings": map[string]any{"properties": map[string]any{
			"process": map[string]any{"properties": map[string]any{"pid": map[string]any{"type": "ip"}}}}}},
	})
	sample := samplePath(t)
	want := countXML(t, sample)
	dataDir := t.TempDir()
	args := append([]string{"replay", sample}, esArgs(c, c.URL)...)
	args = append(args, "-E", "procbeat.namespace="+ns, "-E", "path.data="+dataDir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd, _, stderr := command(t, ctx, args...)
	err := cmd.Run()
	var ex *exec.ExitError
	if !errors.As(err, &ex) || ex.ExitCode() != 4 {
		t.Fatalf("replay with rejected documents: %v, want exit status 4\nstderr:\n%s", err, tail(stderr.String(), 30))
	}
	rejected := want.start + want.end
	dlq := filepath.Join(dataDir, "dead-letter.ndjson")
	if !strings.Contains(stderr.String(), "dead-lettered: "+strconv.Itoa(rejected)) {
		t.Fatalf("summary does not count the %d dead letters:\n%s", rejected, tail(stderr.String(), 10))
	}
	data, err := os.ReadFile(dlq)
	if err != nil || strings.Count(string(data), "\n") != rejected {
		t.Fatalf("dead-letter file: %v, %d lines, want %d", err, strings.Count(string(data), "\n"), rejected)
	}

	// Fix the mapping: the broken template and the index it made go.
	e.do(http.MethodDelete, "/_index_template/"+broken, nil)
	e.do(http.MethodDelete, "/"+processStream(ns), nil)
	procbeat(t, append([]string{"replay", dlq}, append(esArgs(c, c.URL), "-E", "path.data="+dataDir)...)...)
	checkExactlyOnce(t, e, ns, want)
	// Shipped as they were: the ids are those of a clean replay.
	e.refresh(processStream(ns))
	for _, d := range localDocs(t, sample) {
		if d.Dataset != "endpoint.events.process" {
			continue
		}
		if n := e.count(processStream(ns), term("_id", d.ID)); n != 1 {
			t.Errorf("_id %s: %d documents, want 1", d.ID, n)
		}
	}
}

// waitForDocs polls a data stream until it holds at least n documents,
// failing when the process ends or a minute passes first. Unlike
// waitForCount it takes the stream's own name and tolerates the moments
// after its creation when it is missing or its shard not yet started.
func waitForDocs(t *testing.T, e es, stream string, n int, s *started) int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if ended, err := s.exited(); ended {
			t.Fatalf("procbeat ended (%v) before %s held %d documents\nstderr:\n%s", err, stream, n, tail(s.stderr(), 20))
		}
		e.try(http.MethodPost, "/"+stream+"/_refresh", nil)
		if status, body := e.try(http.MethodPost, "/"+stream+"/_count", nil); status == http.StatusOK {
			var res struct {
				Count int `json:"count"`
			}
			e.decode(body, &res)
			if res.Count >= n {
				return res.Count
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not reach %d documents within a minute", stream, n)
	return 0
}
