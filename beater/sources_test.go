package beater

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/testing/corpus"
)

// idOutput records the _id of every event it stores; after accept events
// it stores nothing more and blocks each batch until the pipeline gives up
// on it (a hung output at the moment of a kill).
type idOutput struct {
	mu     sync.Mutex
	ids    map[string]int
	accept int    // <0: no limit
	hung   func() // called when the output starts hanging
}

func newIDOutput(accept int) *idOutput { return &idOutput{ids: map[string]int{}, accept: accept} }

func (o *idOutput) Limits() pipeline.Limits { return pipeline.Limits{MaxEvents: 7} }
func (o *idOutput) Close() error            { return nil }
func (o *idOutput) Publish(ctx context.Context, evs []pipeline.Event) error {
	o.mu.Lock()
	if o.accept >= 0 && o.accept < len(evs) {
		o.mu.Unlock()
		if o.hung != nil {
			o.hung()
		}
		<-ctx.Done()
		return ctx.Err()
	}
	for _, e := range evs {
		o.ids[e.ID]++
	}
	if o.accept >= 0 {
		o.accept -= len(evs)
	}
	o.mu.Unlock()
	return nil
}

// replayIDs replays paths with data as the data directory and returns the
// _ids stored.
func replayIDs(t *testing.T, data string, paths ...string) map[string]int {
	t.Helper()
	out := newIDOutput(-1)
	b := testBeater(t, data, out)
	if _, err := b.Replay(context.Background(), paths); err != nil {
		t.Fatal(err)
	}
	b.Close()
	return out.stored()
}

func (o *idOutput) stored() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := make(map[string]int, len(o.ids))
	for k, v := range o.ids {
		m[k] = v
	}
	return m
}

// wrappedSysmonEVTX builds, from the corpus's sysmon.evtx, a wrapped log:
// its chunks rotated so that the second half (higher record ids) comes
// first, as in a log set to overwrite as needed.
func wrappedSysmonEVTX(t *testing.T, dir string) (string, int) {
	t.Helper()
	data, err := os.ReadFile(corpus.RequireFile(t, "omerbenamram-evtx/samples/sysmon.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	const head, size = 0x1000, 0x10000
	var chunks [][]byte
	for off := head; off+size <= len(data); off += size {
		if string(data[off:off+8]) == "ElfChnk\x00" {
			chunks = append(chunks, data[off:off+size])
		}
	}
	if len(chunks) < 4 {
		t.Fatalf("sysmon.evtx has %d chunks", len(chunks))
	}
	k := len(chunks) / 2
	out := append([]byte(nil), data[:head]...)
	for _, c := range append(chunks[k:], chunks[:k]...) {
		out = append(out, c...)
	}
	// The wrap is real: the first record ids fall between two chunks.
	first := func(c []byte) uint64 { return binary.LittleEndian.Uint64(c[24:]) }
	if first(chunks[k]) <= first(chunks[0]) {
		t.Fatal("chunks not in id order to begin with")
	}
	p := filepath.Join(dir, "Sysmon.evtx")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, len(chunks)
}

func testBeater(t *testing.T, data string, out pipeline.Output) *Beater {
	t.Helper()
	cfg := config.Default()
	cfg.Path.Data = data
	// These tests count deliveries, not stored documents: merging
	// (merge_test.go) re-sends after a kill what was acknowledged behind a
	// record held for its twin, which Elasticsearch drops by _id.
	cfg.Procbeat.MergeSources = false
	b, err := NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, out, Options{Resume: true, DrainTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stopAt is a source that ends (as an interrupted run does: Ctrl-C) when
// its reader is about to return a record at or past position limit.
type stopAt struct {
	source.Source
	stop func(source.Position) bool
}

func (s stopAt) Open(ctx context.Context, pos source.Position) (source.Reader, error) {
	r, err := s.Source.Open(ctx, pos)
	if err != nil {
		return nil, err
	}
	return &stopReader{Reader: r, stop: s.stop}, nil
}

type stopReader struct {
	source.Reader
	stop func(source.Position) bool
}

func (r *stopReader) Next(ctx context.Context) bool {
	return r.Reader.Next(ctx) && !r.stop(r.Reader.Position())
}

func exactlyOnce(t *testing.T, what string, want map[string]int, runs ...map[string]int) {
	t.Helper()
	got := map[string]int{}
	for _, r := range runs {
		for id, n := range r {
			got[id] += n
		}
	}
	for id := range want {
		if got[id] != 1 {
			t.Fatalf("%s: document %s delivered %d times", what, id, got[id])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d distinct documents, want %d", what, len(got), len(want))
	}
}

// TestWrappedEVTXInterruptedAtEveryChunkBoundary: a wrapped log (record ids
// not in file order) interrupted at every chunk boundary and resumed from
// its checkpoint delivers every document exactly once. Resuming after the
// highest record id, as procbeat did, lost every chunk after the wrap.
func TestWrappedEVTXInterruptedAtEveryChunkBoundary(t *testing.T) {
	path, nchunks := wrappedSysmonEVTX(t, t.TempDir())
	want := replayIDs(t, t.TempDir(), path)
	if len(want) < 200 {
		t.Fatalf("%d documents in the wrapped log", len(want))
	}
	for boundary := 1; boundary < nchunks; boundary++ {
		data := t.TempDir()
		first := newIDOutput(-1)
		b := testBeater(t, data, first)
		src := stopAt{source.NewFile(path, b.runner.opts), func(p source.Position) bool { return int(p.Offset>>32) >= boundary }}
		if err := b.runner.Run(context.Background(), src); err != nil {
			t.Fatal(err)
		}
		b.Close()
		exactlyOnce(t, fmt.Sprintf("chunk boundary %d", boundary), want, first.stored(), replayIDs(t, data, path))
	}
}

// TestRestartAfterKillEveryKind: for every kind of source (EVTX, XML, JSON,
// a member of a zip), a run whose output hangs after some documents is
// stopped (its pipeline gives up on what is in flight, as after a kill the
// last checkpoint written is all that survives) and the next run resumes:
// every document stored exactly once.
func TestRestartAfterKillEveryKind(t *testing.T) {
	dir := t.TempDir()
	evtxPath, _ := wrappedSysmonEVTX(t, dir)
	sample, err := os.ReadFile("../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	xmlPath := filepath.Join(dir, "s.xml")
	if err := os.WriteFile(xmlPath, sample, 0o600); err != nil {
		t.Fatal(err)
	}
	jsonPath := filepath.Join(dir, "s.json")
	if err := os.WriteFile(jsonPath, sampleJSON(t), 0o600); err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(dir, "collection.zip")
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("Logs/Sysmon.evtx")
	raw, _ := os.ReadFile(evtxPath)
	w.Write(raw)
	zw.Close()
	if err := os.WriteFile(zipPath, zb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{evtxPath, xmlPath, jsonPath, zipPath} {
		want := replayIDs(t, t.TempDir(), p)
		for _, accept := range []int{0, 7, len(want) / 2} {
			data := t.TempDir()
			first := newIDOutput(accept)
			ctx, kill := context.WithCancel(context.Background())
			first.hung = kill
			b := testBeater(t, data, first)
			if _, err := b.Replay(ctx, []string{p}); err != nil && ctx.Err() == nil {
				t.Fatal(err)
			}
			b.Close() // gives up on the hung batches
			kill()
			exactlyOnce(t, filepath.Base(p), want, first.stored(), replayIDs(t, data, p))
		}
	}
}

// sampleJSON is a Winlogbeat 8 export of Sysmon process starts, as a
// top-level JSON array (a resumed reader starts inside it).
func sampleJSON(t *testing.T) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString("[\n")
	for i := 1; i <= 40; i++ {
		if i > 1 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"@timestamp":"2024-03-01T10:00:%02d.000Z","winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","computer_name":"ws1","event_id":"1","provider_name":"Microsoft-Windows-Sysmon","record_id":%d,"version":5,"event_data":{"UtcTime":"2024-03-01 10:00:%02d.000","ProcessGuid":"{5770385F-A1B2-65E1-0D01-0000000018%02d}","ProcessId":"%d","Image":"C:\\p%d.exe","CommandLine":"p%d.exe"}}}`, i, 4700+i, i, i, 1000+i, i, i)
	}
	b.WriteString("\n]\n")
	return []byte(b.String())
}

// TestConcurrentRuns runs two sources at once through one runner (as live
// channels are): every document of both is delivered, the mapping being
// serialized between them (run with -race).
func TestConcurrentRuns(t *testing.T) {
	sample, err := os.ReadFile("../testdata/sample/sample.xml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := newIDOutput(-1)
	b := testBeater(t, t.TempDir(), out)
	var wg sync.WaitGroup
	for _, name := range []string{"a.xml", "b.json"} {
		p := filepath.Join(dir, name)
		data := sample
		if name == "b.json" {
			data = sampleJSON(t)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.runner.Run(context.Background(), source.NewFile(p, b.runner.opts)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := b.runner.FlushHeld(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(out.stored()); n != 14+40 {
		t.Fatalf("%d documents, want 54", n)
	}
}
