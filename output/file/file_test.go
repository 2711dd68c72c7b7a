package file_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-ucfg"
	"github.com/elastic/go-ucfg/yaml"

	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/output/file"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

func doc(i int) pipeline.Event {
	return pipeline.Event{Index: "logs-x", ID: fmt.Sprint(i),
		Body: fmt.Appendf(nil, `{"seq":%d,"pad":"%s"}`, i, strings.Repeat("p", 180)),
		Pos:  pipeline.Position{Source: "s", Offset: uint64(i)}}
}

func readLines(t *testing.T, dir string) (files []string, lines []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		files = append(files, e.Name())
	}
	sort.Strings(files)
	for _, name := range files {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
	}
	return files, lines
}

// A batch is on disk, whole lines only, when Publish returns; files rotate
// at rotate_every_kb and at most number_of_files are kept.
func TestWriteAndRotate(t *testing.T) {
	dir := t.TempDir()
	cfg := file.DefaultConfig()
	cfg.Path, cfg.Filename, cfg.RotateEveryKB, cfg.NumberOfFiles = dir, "out", 4, 3
	out, err := file.New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var batch []pipeline.Event
	for i := 1; i <= 10; i++ {
		batch = append(batch, doc(i))
	}
	if err := out.Publish(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	_, lines := readLines(t, dir)
	if len(lines) != 10 || lines[9] != string(doc(10).Body) {
		t.Fatalf("after Publish the files hold %d lines", len(lines))
	}
	for i := 11; i <= 200; i += 10 {
		batch = batch[:0]
		for j := i; j < i+10; j++ {
			batch = append(batch, doc(j))
		}
		if err := out.Publish(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	files, lines := readLines(t, dir)
	if len(files) != 3 {
		t.Fatalf("files %v, want 3 (number_of_files)", files)
	}
	for _, name := range files {
		fi, _ := os.Stat(filepath.Join(dir, name))
		if fi.Size() > 4*1024 {
			t.Errorf("%s is %d bytes, over rotate_every_kb", name, fi.Size())
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", name, fi.Mode().Perm())
		}
	}
	// The kept files end with the newest documents, complete and in order.
	last := 200
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i] != string(doc(last).Body) {
			t.Fatalf("line %d = %.30q, want document %d", i, lines[i], last)
		}
		last--
	}
}

// Through the pipeline, the registry ends at the last written offset.
func TestPipelineCheckpoints(t *testing.T) {
	dir := t.TempDir()
	cfg := file.DefaultConfig()
	cfg.Path, cfg.BatchSize, cfg.FlushInterval = filepath.Join(dir, "out"), 7, 5*time.Millisecond
	out, err := file.New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(filepath.Join(dir, "registry"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(context.Background(), out, reg, pipeline.Options{})
	c := p.Client("s")
	for i := 1; i <= 100; i++ {
		if err := c.Publish(context.Background(), doc(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	_, lines := readLines(t, filepath.Join(dir, "out"))
	if len(lines) != 100 {
		t.Fatalf("%d lines written, want 100", len(lines))
	}
	r2, _ := registry.Open(filepath.Join(dir, "registry"), registry.Options{})
	if pos, _ := r2.Position("s"); pos.Offset != 100 {
		t.Fatalf("registry at %+v, want 100", pos)
	}
}

func TestValidate(t *testing.T) {
	cfg := file.DefaultConfig()
	cfg.Path = ""
	if _, err := file.New(cfg, nil, nil); err == nil || !strings.HasPrefix(err.Error(), "path: ") {
		t.Errorf("no path accepted: %v", err)
	}
	cfg.Path, cfg.NumberOfFiles = t.TempDir(), 1
	if _, err := file.New(cfg, nil, nil); err == nil || !strings.HasPrefix(err.Error(), "number_of_files: ") {
		t.Errorf("number_of_files 1 accepted: %v", err)
	}
}

func TestConfigUnpack(t *testing.T) {
	raw, err := yaml.NewConfig([]byte("path: /tmp/procbeat\nfilename: events\nrotate_every_kb: 2048\nnumber_of_files: 3\npermissions: 0640\n"), ucfg.PathSep("."))
	if err != nil {
		t.Fatal(err)
	}
	cfg := file.DefaultConfig()
	if err := raw.Unpack(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Path != "/tmp/procbeat" || cfg.Filename != "events" || cfg.RotateEveryKB != 2048 || cfg.NumberOfFiles != 3 || cfg.Permissions != 0o640 || !cfg.RotateOnStartup {
		t.Fatalf("unpacked %+v", cfg)
	}
}

// debugLog keeps the debug lines.
type debugLog struct {
	monitoring.NopLogger
	lines []string
}

func (l *debugLog) Debugf(format string, args ...any) {
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

// sizedDoc is a document whose line (with its newline) is n bytes.
func sizedDoc(i, n int) pipeline.Event {
	head := fmt.Sprintf(`{"seq":%d,"pad":"`, i)
	return pipeline.Event{Index: "logs-x", ID: fmt.Sprint(i), Body: []byte(head + strings.Repeat("p", n-len(head)-3) + `"}`)}
}

// A file rotates before a line that would take it over rotate_every_kb,
// in a batch or from one batch to the next: each file is full up to the
// line that did not fit. A line longer than rotate_every_kb on its own
// goes alone in a file. The debug line names the files written.
func TestRotatesBeforeTheLimit(t *testing.T) {
	dir := t.TempDir()
	cfg := file.DefaultConfig()
	cfg.Path, cfg.Filename, cfg.RotateEveryKB, cfg.NumberOfFiles = dir, "out", 1, 20
	log := &debugLog{}
	out, err := file.New(cfg, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	// 300-byte lines: three to a 1024-byte file, 124 bytes left in each.
	var batch []pipeline.Event
	for i := range 9 {
		batch = append(batch, sizedDoc(i, 300))
	}
	if err := out.Publish(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	// A line fills the third file's 124 bytes left, the next does not fit;
	// then one longer than the limit; then two small ones.
	batch = []pipeline.Event{sizedDoc(9, 124), sizedDoc(10, 30), sizedDoc(11, 3000), sizedDoc(12, 40), sizedDoc(13, 50)}
	if err := out.Publish(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	files, lines := readLines(t, dir)
	if len(lines) != 14 {
		t.Fatalf("%d lines, want 14", len(lines))
	}
	var sizes []int64
	for _, name := range files {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, fi.Size())
	}
	// Files sort by name here: the first has no index ("out-DATE.ndjson"
	// sorts after "out-DATE-1.ndjson"), then -1, -2, … -9 (one digit).
	want := []int64{900, 900, 900 + 124, 30, 3000, 90}
	got := append(sizes[len(sizes)-1:len(sizes):len(sizes)], sizes[:len(sizes)-1]...)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("file sizes %v (files %v), want %v", got, files, want)
	}
	if len(log.lines) != 2 {
		t.Fatalf("debug lines %q", log.lines)
	}
	// The first batch went to the first three files, the second to the
	// third and the next three.
	date := strings.TrimSuffix(strings.TrimPrefix(files[len(files)-1], "out-"), ".ndjson")
	name := func(i int) string {
		if i == 0 {
			return filepath.Join(dir, "out-"+date+".ndjson")
		}
		return filepath.Join(dir, fmt.Sprintf("out-%s-%d.ndjson", date, i))
	}
	for i, want := range []string{
		fmt.Sprintf("wrote and synced a batch of 9 events to %s to %s (3 files)", name(0), name(2)),
		fmt.Sprintf("wrote and synced a batch of 5 events to %s to %s (4 files)", name(2), name(5)),
	} {
		if log.lines[i] != want {
			t.Errorf("debug line %q\nwant %q", log.lines[i], want)
		}
	}
}

// Without rotate_on_startup the last file is appended to, and what it
// held counts toward rotate_every_kb: 300-byte lines, three to a file.
func TestAppendCountsWhatTheFileHeld(t *testing.T) {
	dir := t.TempDir()
	cfg := file.DefaultConfig()
	cfg.Path, cfg.Filename, cfg.RotateEveryKB, cfg.RotateOnStartup = dir, "out", 1, false
	// The third run appends to the second of two files.
	log := &debugLog{}
	for run, n := range []int{2, 3, 2} {
		out, err := file.New(cfg, nil, log)
		if err != nil {
			t.Fatal(err)
		}
		var batch []pipeline.Event
		for i := range n {
			batch = append(batch, sizedDoc(10*run+i, 300))
		}
		if err := out.Publish(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	files, lines := readLines(t, dir)
	if len(files) != 3 || len(lines) != 7 {
		t.Fatalf("files %v, %d lines", files, len(lines))
	}
	for _, name := range files {
		if fi, _ := os.Stat(filepath.Join(dir, name)); fi.Size() != 900 && !(strings.Contains(name, "-2.") && fi.Size() == 300) {
			t.Errorf("%s is %d bytes, want 900 (300 the last)", name, fi.Size())
		}
	}
	// Debug lines name the file or two written to.
	first := filepath.Join(dir, files[len(files)-1])
	second, third := filepath.Join(dir, files[0]), filepath.Join(dir, files[1])
	want := []string{"2 events to " + first, "3 events to " + first + " and " + second, "2 events to " + second + " and " + third}
	for i := range want {
		want[i] = "wrote and synced a batch of " + want[i]
	}
	if fmt.Sprint(log.lines) != fmt.Sprint(want) {
		t.Errorf("debug lines %q\nwant %q", log.lines, want)
	}
}
