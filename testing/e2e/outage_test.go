package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/testing/estest"
)

// TestOutageRetriesExactlyOnce stops the cluster in the middle of a
// replay and starts it again: procbeat keeps retrying, then delivers every
// document exactly once and dead-letters none.
func TestOutageRetriesExactlyOnce(t *testing.T) {
	c := estest.StartDedicated(t, estest.Options{})
	e := es{t, c}
	ns := c.Namespace(t)
	setup(t, c)
	// The restarted container may publish another port; procbeat keeps
	// talking to the proxy, which follows the cluster.
	px := estest.NewProxy(t, c.URL)
	input, want := bigInput(t, 1500)
	dataDir := t.TempDir()
	run := startReplay(t, c, px.URL(), ns, dataDir, input)

	atStop := waitForCount(t, e, allStreams(ns), want.total()/10, run)
	if atStop >= want.total() {
		t.Fatalf("all %d documents were indexed before the outage", atStop)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	begin := time.Now()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := time.Since(begin)
	time.Sleep(3 * time.Second)
	if ended, err := run.exited(); ended {
		t.Fatalf("procbeat ended during the outage (%v): it must wait for the cluster\nstderr:\n%s", err, tail(run.stderr(), 30))
	}
	oldURL := c.URL
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	px.Retarget(t, c.URL)
	outage := time.Since(begin)
	t.Logf("outage after >= %d of %d documents: stop took %v, cluster back after %v (%s, was %s)",
		atStop, want.total(), stopped.Round(time.Millisecond), outage.Round(time.Millisecond), c.URL, oldURL)

	if err := run.wait(t, 3*time.Minute); err != nil {
		t.Fatalf("replay across the outage: %v\nstderr:\n%s", err, tail(run.stderr(), 30))
	}
	stderr := run.stderr()
	var retries []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "retrying") {
			retries = append(retries, l)
		}
	}
	if len(retries) == 0 {
		t.Fatalf("procbeat's log shows no retry, so the outage did not touch it:\n%s", tail(stderr, 20))
	}
	t.Logf("%d retry lines, the first: %s", len(retries), retries[0])
	checkExactlyOnce(t, e, ns, want)
	if data, err := os.ReadFile(filepath.Join(dataDir, "dead-letter.ndjson")); err == nil && len(data) > 0 {
		t.Errorf("documents were dead-lettered during the outage:\n%.1000s", data)
	}
}
