package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/procbeat/procbeat/registry"
	"github.com/procbeat/procbeat/testing/estest"
)

// started is a procbeat process running in the background.
type started struct {
	cmd    *exec.Cmd
	done   chan error
	stderr func() string
}

// startReplay starts `procbeat replay` with --resume against url without
// waiting for it; the process is killed if the test ends first.
func startReplay(t *testing.T, c *estest.Cluster, url, ns, dataDir string, files ...string) *started {
	t.Helper()
	args := append([]string{"replay", "--resume"}, files...)
	args = append(args, esArgs(c, url)...)
	args = append(args, "-E", "procbeat.namespace="+ns, "-E", "path.data="+dataDir,
		// Small bulks make the run long enough to interrupt, and a short
		// backoff makes an outage cost seconds, not a minute. A request
		// caught by the outage may hang until its timeout: keep that short.
		"-E", "output.elasticsearch.bulk_max_size=50",
		"-E", "output.elasticsearch.backoff.init=200ms", "-E", "output.elasticsearch.backoff.max=2s",
		"-E", "output.elasticsearch.timeout=10s")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd, _, stderr := command(t, ctx, args...)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &started{cmd: cmd, done: make(chan error, 1)}
	// The buffer is only read after the process has exited (wait), or
	// for a failure message once it has been killed.
	s.stderr = stderr.String
	go func() { s.done <- cmd.Wait(); cancel() }()
	t.Cleanup(func() {
		select {
		case err := <-s.done:
			s.done <- err
		default:
			_ = cmd.Process.Kill()
			s.done <- <-s.done
		}
	})
	return s
}

// wait returns the process's exit error, failing the test after timeout.
func (s *started) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // later calls see it too
		return err
	case <-time.After(timeout):
		_ = s.cmd.Process.Kill()
		err := <-s.done
		s.done <- err
		t.Fatalf("procbeat still running after %v; killed\nstderr:\n%s", timeout, tail(s.stderr(), 30))
		return nil
	}
}

// exited reports whether the process has ended, and how.
func (s *started) exited() (bool, error) {
	select {
	case err := <-s.done:
		s.done <- err // later calls see it too
		return true, err
	default:
		return false, nil
	}
}

// waitForCount polls target until it holds at least n documents, failing
// if the process ends or a minute passes first. It returns the count seen.
func waitForCount(t *testing.T, e es, target string, n int, s *started) int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if ended, err := s.exited(); ended {
			t.Fatalf("procbeat ended (%v) before %s held %d documents: the input is too small to interrupt\nstderr:\n%s", err, target, n, tail(s.stderr(), 20))
		}
		// target is a wildcard: before the first document it matches
		// nothing, which counts as 0. Just after a data stream is created
		// its shard may not be allocated yet (503): poll again.
		if got, ok := e.tryCount(target); ok && got >= n {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not reach %d documents within a minute", target, n)
	return 0
}

// waitForCheckpoint waits until the registry at path holds a position past
// the start of a source.
func waitForCheckpoint(t *testing.T, path string, s *started) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if ended, err := s.exited(); ended {
			t.Fatalf("procbeat ended (%v) before it wrote a checkpoint\nstderr:\n%s", err, tail(s.stderr(), 20))
		}
		// A read may meet the file mid-rename on some systems; a decode
		// error is polled again like a missing file.
		if data, err := os.ReadFile(path); err == nil {
			if st, err := registry.Decode(data); err == nil {
				for _, p := range st.Positions {
					if p.Offset > 0 {
						return
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s held no checkpoint within a minute", path)
}

// recordsIn counts the events of an XML export.
func recordsIn(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(data, []byte("</Event>"))
}

var recordsReadRE = regexp.MustCompile(`records read: (\d+)`)

// recordsRead reads the number of records a replay read from its summary:
// a resumed one starts at its checkpoint (a byte offset in an export), so
// it reads only what follows.
func recordsRead(t *testing.T, stderr string) int {
	t.Helper()
	m := recordsReadRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary in procbeat's stderr:\n%s", tail(stderr, 20))
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// checkExactlyOnce refreshes the namespace's streams and checks that they
// hold want documents with no event.id twice.
func checkExactlyOnce(t *testing.T, e es, ns string, want kinds) {
	t.Helper()
	e.refresh(allStreams(ns))
	if got := e.count(allStreams(ns), nil); got != want.total() {
		t.Errorf("%s: %d documents, want %d", allStreams(ns), got, want.total())
	}
	for action, n := range map[string]int{"start": want.start, "end": want.end} {
		if got := e.count(processStream(ns), term("event.action", action)); got != n {
			t.Errorf("%s: %d %s documents, want %d", processStream(ns), got, action, n)
		}
	}
	if got := e.count(apiStream(ns), nil); got != want.access {
		t.Errorf("%s: %d documents, want %d", apiStream(ns), got, want.access)
	}
	if dup := e.duplicateEventIDs(allStreams(ns)); len(dup) > 0 {
		t.Errorf("event.id values indexed more than once: %v", dup)
	}
}

// TestKilledReplayResumesExactlyOnce kills a replay with SIGKILL once
// documents are being indexed, runs it again on the same path.data, and
// expects every document exactly once.
func TestKilledReplayResumesExactlyOnce(t *testing.T) {
	c := estest.Start(t)
	e := es{t, c}
	ns := c.Namespace(t)
	setup(t, c)
	input, want := bigInput(t, 2000)
	dataDir := t.TempDir()

	first := startReplay(t, c, c.URL, ns, dataDir, input)
	atKill := waitForCount(t, e, allStreams(ns), want.total()/5, first)
	// Documents in Elasticsearch are not yet a checkpoint: the registry is
	// written after acknowledgement, and on a loaded machine that can lag
	// the first fifth of the input. Kill only once a checkpoint is on disk,
	// or the resumed run rightly reads everything again.
	waitForCheckpoint(t, filepath.Join(dataDir, "registry.json"), first)
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := first.wait(t, 30*time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Exited() {
		t.Fatalf("first run: %v, want death by SIGKILL (it finished before being killed?)", err)
	}
	e.refresh(allStreams(ns))
	afterKill := e.count(allStreams(ns), nil)
	if afterKill >= want.total() {
		t.Fatalf("all %d documents were indexed before the kill: nothing left to resume", afterKill)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "registry.json")); err != nil {
		t.Errorf("no registry after the killed run: %v", err)
	}

	second := startReplay(t, c, c.URL, ns, dataDir, input)
	if err := second.wait(t, 3*time.Minute); err != nil {
		t.Fatalf("resumed run: %v\nstderr:\n%s", err, tail(second.stderr(), 30))
	}
	read := recordsRead(t, second.stderr())
	// Records, not documents: the input also holds records that are not
	// process events, so a resumed run that skipped fewer records than
	// there are of those read more than want.total() and still resumed.
	records := recordsIn(t, input)
	t.Logf("killed at >= %d documents (%d once it was dead) of %d; the resumed run read %d of %d records", atKill, afterKill, want.total(), read, records)
	if read >= records {
		reg, _ := os.ReadFile(filepath.Join(dataDir, "registry.json"))
		t.Errorf("the resumed run read the whole input again: it did not use the checkpoints of the killed run\nregistry:\n%s\nstderr:\n%s", reg, tail(second.stderr(), 30))
	}
	checkExactlyOnce(t, e, ns, want)
}
