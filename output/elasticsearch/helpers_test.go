package elasticsearch_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"sync"
	"testing"

	es8 "github.com/elastic/go-elasticsearch/v8"

	"github.com/procbeat/procbeat/output/elasticsearch/esfake"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

const testIndex = "logs-endpoint.events.process-default"

func eventID(source string, off uint64) string { return fmt.Sprintf("%s-%08d", source, off) }

func makeEvent(source string, off uint64) pipeline.Event {
	id := eventID(source, off)
	body := fmt.Sprintf(`{"@timestamp":"2026-11-22T20:00:00.%03dZ","event":{"kind":"event","category":["process"],"type":["start"],"sequence":%d},"process":{"pid":%d,"entity_id":"%s","executable":"C:\\Windows\\System32\\cmd.exe","command_line":"cmd.exe /c echo %d"},"host":{"name":"WIN-TEST"}}`,
		off%1000, off, 1000+off, id, off)
	return pipeline.Event{Index: testIndex, ID: id, Body: []byte(body), Pos: pipeline.Position{Source: source, Offset: off}}
}

// rejectEvery makes the fake refuse, permanently, ids whose hash falls in
// 1/n of the space: the same ids every time they are sent.
func rejectEvery(n uint32) func(index, id string) bool {
	return func(_, id string) bool {
		h := fnv.New32a()
		h.Write([]byte(id))
		return h.Sum32()%n == 0
	}
}

func newClient(t testing.TB, url string) *es8.Client {
	return newClientRetry(t, url, true)
}

// newClientRetry builds a client for the fake; retry false disables the
// client's own retries so that every fault reaches the output.
func newClientRetry(t testing.TB, url string, retry bool) *es8.Client {
	t.Helper()
	c, err := es8.NewClient(es8.Config{Addresses: []string{url}, DisableRetry: !retry})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dlqLine is the part of a dead-letter record the tests check.
type dlqLine struct {
	Index  string `json:"index"`
	ID     string `json:"id"`
	Status int    `json:"status"`
	Error  struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
	Document json.RawMessage `json:"document"`
}

func readDLQ(t testing.TB, path string) []dlqLine {
	t.Helper()
	out, err := parseDLQ(path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parseDLQ(path string) ([]dlqLine, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// A line without its newline is being written by another batch right
	// now; that batch is not acknowledged yet, so the checks skip it.
	if i := bytes.LastIndexByte(data, '\n'); i < len(data)-1 {
		data = data[:i+1]
	}
	var out []dlqLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l dlqLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("dead-letter line %q: %w", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

func newCheckingFS(t testing.TB, fake *esfake.Server, reject func(string, string) bool, dlqPath string) *checkingFS {
	return &checkingFS{t: t, fake: fake, reject: reject, dlqPath: dlqPath, verified: make(map[string]uint64)}
}

// checkingFS wraps the OS file system. At every registry write it decodes
// the new file before it is renamed into place and checks that every
// event up to each checkpoint is acknowledged: stored by the fake, or
// rejected by it and present in the dead-letter file. It can also crash:
// fail the rename after the temp file is written, and everything after.
type checkingFS struct {
	registry.OS
	t       testing.TB
	fake    *esfake.Server
	reject  func(index, id string) bool
	dlqPath string

	mu       sync.Mutex
	dead     bool
	crashAt  int // rename number that crashes; 0 never
	renames  int
	verified map[string]uint64 // per source, offsets checked so far
	writes   int
}

var errCrashed = errors.New("simulated crash")

func (f *checkingFS) kill() {
	f.mu.Lock()
	f.dead = true
	f.mu.Unlock()
}

func (f *checkingFS) isDead() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dead
}

func (f *checkingFS) CreateTemp(dir, pattern string) (registry.File, error) {
	if f.isDead() {
		return nil, errCrashed
	}
	return f.OS.CreateTemp(dir, pattern)
}

func (f *checkingFS) Remove(name string) error {
	if f.isDead() {
		return errCrashed
	}
	return f.OS.Remove(name)
}

func (f *checkingFS) SyncDir(dir string) error {
	if f.isDead() {
		return errCrashed
	}
	return f.OS.SyncDir(dir)
}

func (f *checkingFS) Rename(oldpath, newpath string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dead {
		return errCrashed
	}
	if strings.Contains(oldpath, ".tmp-") {
		var next map[string]uint64
		data, err := os.ReadFile(oldpath)
		if err != nil {
			f.t.Errorf("registry write: reading temp file: %v", err)
		} else {
			next = f.check(data)
		}
		f.renames++
		if f.renames == f.crashAt {
			f.dead = true
			return errCrashed
		}
		if err := f.OS.Rename(oldpath, newpath); err != nil {
			return err
		}
		// Only a committed write moves what later writes are compared with.
		for k, v := range next {
			f.verified[k] = v
		}
		return nil
	}
	return f.OS.Rename(oldpath, newpath)
}

// check runs under f.mu. It returns the verified offsets to commit.
func (f *checkingFS) check(data []byte) map[string]uint64 {
	f.writes++
	st, err := registry.Decode(data)
	if err != nil {
		f.t.Errorf("registry write %d is not readable: %v", f.writes, err)
		return nil
	}
	next := make(map[string]uint64, len(st.Positions))
	var dlq map[string]bool
	for _, p := range st.Positions {
		from := f.verified[p.Source]
		if p.Offset < from {
			f.t.Errorf("registry write %d: %s went back from %d to %d", f.writes, p.Source, from, p.Offset)
		}
		for off := from + 1; off <= p.Offset; off++ {
			id := eventID(p.Source, off)
			if f.fake.Has(testIndex, id) {
				continue
			}
			if f.reject(testIndex, id) {
				if dlq == nil {
					dlq = make(map[string]bool)
					lines, err := parseDLQ(f.dlqPath)
					if err != nil {
						f.t.Errorf("registry write %d: %v", f.writes, err)
					}
					for _, l := range lines {
						dlq[l.ID] = true
					}
				}
				if dlq[id] {
					continue
				}
			}
			f.t.Errorf("registry write %d: %s checkpoint %d passes unacknowledged offset %d", f.writes, p.Source, p.Offset, off)
			return nil
		}
		next[p.Source] = max(from, p.Offset)
	}
	return next
}

func strconvU(v uint64) string { return fmt.Sprint(v) }
