package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/output/elasticsearch/esfake"
	"github.com/procbeat/procbeat/testing/corpus"
)

func TestReplaySample(t *testing.T) {
	out, stderr, code := run(t, "replay", "../../testdata/sample/sample.xml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 14 {
		t.Fatalf("%d documents, want 14", len(lines))
	}
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		ds := "endpoint.events.process"
		if strings.Contains(l, `"dataset":"endpoint.events.api"`) {
			ds = "endpoint.events.api"
		}
		for _, err := range cat.Validate(ds, []byte(l)) {
			t.Errorf("document %d: %v", i+1, err)
		}
	}
	if !strings.Contains(stderr, "documents: 14 (start 8, end 4, access 2)") {
		t.Errorf("summary: %s", stderr)
	}
}

func TestReplayResumesFromCheckpoint(t *testing.T) {
	data := t.TempDir()
	args := []string{"replay", "--resume", "-E", "path.data=" + data, "../../testdata/sample/sample.xml"}
	out, stderr, code := run(t, args...)
	if code != 0 || strings.Count(out, "\n") != 14 || strings.Contains(stderr, "resumed") {
		t.Fatalf("first run: exit %d, %d lines: %s", code, strings.Count(out, "\n"), stderr)
	}
	out, stderr, code = run(t, args...)
	// The file resumes at the byte after the last delivered document: only
	// the record after it (not a process event) is read again.
	if code != 0 || out != "" || !strings.Contains(stderr, "records read: 1,") || !strings.Contains(stderr, "documents: 0 ") {
		t.Fatalf("second run sent again: exit %d, %q, %s", code, out, stderr)
	}
	// The summary says the file resumed, and claims no "skipped: 0" for
	// the records it never read.
	if !strings.Contains(stderr, "records read: 1, resumed from a checkpoint: 1 file (") || strings.Contains(stderr, "skipped") {
		t.Errorf("second run's summary: %s", stderr)
	}
}

func TestReplayCARCodec(t *testing.T) {
	out, _, code := run(t, "replay", "--codec", "car", "../../testdata/sample/sample.xml")
	if code != 0 || !strings.HasPrefix(out, `{"object":"process","action":"create"`) || !strings.Contains(out, `"action":"access"`) || !strings.Contains(out, `"action":"terminate"`) {
		t.Errorf("car: exit %d\n%s", code, out)
	}
}

// summaryFiles returns the summary's "files with errors" lines.
func summaryFiles(stderr string) []string {
	_, list, ok := strings.Cut(stderr, "files with errors: ")
	if !ok {
		return nil
	}
	var out []string
	for _, l := range strings.Split(list, "\n")[1:] {
		if !strings.HasPrefix(l, "  ") {
			break
		}
		out = append(out, strings.TrimPrefix(l, "  "))
	}
	return out
}

func TestReplayExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const sample = "../../testdata/sample/sample.xml"
	const broken = "../../module/process/decode/jsonevent/testdata/broken.ndjson"
	inventory := write("inventory.json", `{"host":"ws1","disks":[{"size":512}]}`+"\n")
	page := write("page.xml", "<html><body><p>not an event</p></body></html>\n")
	empty := write("empty.json", "")
	notes := write("notes.txt", "hello\n")
	// Exports cut between two records: a wrapped XML export (the first six
	// events of the sample, no </Events>) and a JSON array with no ']'.
	xmlEvents, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	end := 0
	for range 6 {
		end += bytes.Index(xmlEvents[end:], []byte("</Event>")) + len("</Event>")
	}
	wrappedCut := write("wrapped-cut.xml", "<?xml version=\"1.0\"?>\n<Events>\n"+string(xmlEvents[:end])+"\n")
	arrayExport, err := os.ReadFile("../../module/process/decode/jsonevent/testdata/mixed.json")
	if err != nil {
		t.Fatal(err)
	}
	arrayCut := write("array-cut.json", strings.TrimRight(string(arrayExport), "]\n")+",\n")
	for _, c := range []struct {
		name  string
		args  []string
		code  int
		docs  int      // NDJSON lines on stdout
		files []string // the summary's list of files with errors
	}{
		{"clean", []string{sample}, ExitOK, 14, nil},
		{"unrelated JSON beside good input", []string{sample, inventory}, ExitInputErrors, 14, []string{
			inventory + ": 1 decode error; " + beater.ErrNoEvents.Error()}},
		{"XML that is not event XML", []string{page, sample}, ExitInputErrors, 14, []string{page + ": " + beater.ErrNoEvents.Error()}},
		{"empty file", []string{empty}, ExitInputErrors, 0, []string{empty + ": " + beater.ErrNoEvents.Error()}},
		{"undetectable format", []string{notes, sample}, ExitInputErrors, 14, []string{notes + ": " + source.ErrUnknownFormat.Error()}},
		{"bad records counted per file", []string{sample, broken, inventory}, ExitInputErrors, 14, []string{
			inventory + ": 1 decode error; " + beater.ErrNoEvents.Error(),
			broken + ": 6 decode errors; 2 mapping errors"}},
		// A cut export is a read error with its reason, as a cut EVTX
		// file is.
		{"wrapped XML export cut after an event", []string{wrappedCut}, ExitInputErrors, 6, []string{wrappedCut +
			": line 8: input is truncated: it ends inside the <Events> element opened on line 2 (no end tag), after record 6"}},
		{"JSON array export with no closing bracket", []string{arrayCut, sample}, ExitInputErrors, 16, []string{arrayCut +
			": line 27: input is truncated: it ends inside the top-level JSON array opened on line 1 (no closing ']'), after record 3"}},
		{"path that does not exist", []string{sample, filepath.Join(dir, "missing.xml")}, ExitFatal, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, code := run(t, append([]string{"replay"}, c.args...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s", code, c.code, stderr)
			}
			if n := strings.Count(out, "\n"); n != c.docs {
				t.Errorf("%d documents delivered, want %d", n, c.docs)
			}
			got := summaryFiles(stderr)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(c.files))
			if !slices.Equal(got, want) {
				t.Errorf("files with errors:\n%q\nwant\n%q\nstderr:\n%s", got, want, stderr)
			}
			if c.code == ExitInputErrors && !strings.Contains(stderr, "exit status 3") {
				t.Errorf("the summary does not say why the exit status is 3:\n%s", stderr)
			}
		})
	}
}

// TestReplayExitCodesEVTX: an EVTX log without process events is a clean
// replay; a cut-off EVTX file delivers what it holds and exits 3.
func TestReplayExitCodesEVTX(t *testing.T) {
	noProcess := corpus.RequireFile(t, "python-evtx/tests/data/issue_38.evtx")
	out, stderr, code := run(t, "replay", noProcess)
	if code != ExitOK || out != "" || !strings.Contains(stderr, "errors: none") {
		t.Errorf("EVTX without process events: exit %d, %d documents\n%s", code, strings.Count(out, "\n"), stderr)
	}

	// The first 40000 bytes: the header and part of the first chunk.
	full, err := os.ReadFile(corpus.RequireFile(t, "EVTX-ATTACK-SAMPLES/AutomatedTestingTools/Malware/rundll32_cmd_schtask.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.evtx")
	if err := os.WriteFile(cut, full[:40000], 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = run(t, "replay", cut)
	files := summaryFiles(stderr)
	if code != ExitInputErrors || strings.Count(out, "\n") == 0 || len(files) != 1 ||
		!strings.HasPrefix(files[0], cut+": ") || !strings.HasSuffix(files[0], " decode errors") {
		t.Errorf("cut-off EVTX: exit %d, %d documents, files with errors %q\n%s", code, strings.Count(out, "\n"), files, stderr)
	}
}

// TestReplayCodecChecks: an unknown codec, from the flag or the
// configuration, and CAR objects for Elasticsearch are refused before
// anything is read or sent.
func TestReplayCodecChecks(t *testing.T) {
	const sample = "../../testdata/sample/sample.xml"
	es := `output.elasticsearch.hosts=["http://127.0.0.1:1"]`
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag value", []string{"--codec", "xml"}, `unknown codec "xml" (want json or car)`},
		{"car to elasticsearch", []string{"--codec", "car", "-E", es}, beater.ErrCARToElasticsearch.Error()},
		{"unknown console codec", []string{"-E", "output.console.codec=xml"}, "output.console.codec"},
		{"unknown file codec", []string{"-E", "output.file.enabled=true", "-E", "output.file.path=" + t.TempDir(), "-E", "output.file.codec=cef"}, "output.file.codec"},
		{"no codec for elasticsearch", []string{"-c", writeConfig(t, "output:\n  elasticsearch:\n    hosts: [\"http://127.0.0.1:1\"]\n    codec: car\n")}, "invalid keys: codec"},
	} {
		out, stderr, code := run(t, append(append([]string{"replay"}, c.args...), sample)...)
		if code != ExitFatal || out != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stdout %d bytes, stderr %q; want exit 1 and %q", c.name, code, len(out), stderr, c.want)
		}
	}
	// CAR to a file is fine.
	dir := t.TempDir()
	// With a file output replay keeps checkpoints: path.data must be the
	// test's own.
	_, stderr, code := run(t, "replay", "--codec", "car", "-E", "output.file.enabled=true", "-E", "output.file.path="+dir, "-E", "path.data="+t.TempDir(), sample)
	if code != ExitOK {
		t.Fatalf("car to a file: exit %d\n%s", code, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "procbeat*.ndjson"))
	if len(files) != 1 {
		t.Fatalf("car to a file wrote %q", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil || !strings.HasPrefix(string(data), `{"object":"process"`) || strings.Count(string(data), "\n") != 14 {
		t.Errorf("car file output: %v %.100q", err, data)
	}
}

func TestReplayExitCodeRule(t *testing.T) {
	for _, c := range []struct {
		input bool
		dead  uint64
		want  int
	}{{false, 0, ExitOK}, {true, 0, ExitInputErrors}, {false, 2, ExitDeadLettered}, {true, 2, ExitDeadLettered}} {
		if got := replayExitCode(c.input, c.dead); got != c.want {
			t.Errorf("input errors %v, dead-lettered %d: exit %d, want %d", c.input, c.dead, got, c.want)
		}
	}
}

// TestExitCodesDocumented: the README's table and `replay --help` both
// come from exitCodes.
func TestExitCodesDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), exitCodesMarkdown()) || !strings.Contains(string(readme), exitCodeRule) {
		t.Errorf("README.md lacks the exit code table or rule; it should read:\n%s\n%s", exitCodesMarkdown(), exitCodeRule)
	}
	out, _, code := run(t, "replay", "--help")
	if code != 0 || !strings.Contains(out, exitCodesHelp()) {
		t.Errorf("replay --help lacks the exit codes:\n%s", out)
	}
}

// TestReplayExitCodeDeadLettered: documents Elasticsearch rejects for good
// are dead-lettered and the replay exits 4, also when input errors (3)
// apply as well.
func TestReplayExitCodeDeadLettered(t *testing.T) {
	es := esfake.New(esfake.Faults{Reject: func(index, _ string) bool { return strings.Contains(index, ".api-") }})
	defer es.Close()
	inventory := filepath.Join(t.TempDir(), "inventory.json")
	if err := os.WriteFile(inventory, []byte(`{"host":"ws1"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		files []string
		input bool
	}{{[]string{"../../testdata/sample/sample.xml"}, false}, {[]string{"../../testdata/sample/sample.xml", inventory}, true}} {
		data := t.TempDir()
		args := append([]string{"replay", "-E", `output.elasticsearch.hosts=["` + es.URL + `"]`, "-E", "path.data=" + data}, c.files...)
		_, stderr, code := run(t, args...)
		if code != ExitDeadLettered || !strings.Contains(stderr, "documents rejected by the output and dead-lettered: 2\n") ||
			strings.Contains(stderr, "files with errors") != c.input {
			t.Errorf("%v: exit %d, want %d\n%s", c.files, code, ExitDeadLettered, stderr)
		}
		dl, err := os.ReadFile(filepath.Join(data, "dead-letter.ndjson"))
		if err != nil || strings.Count(string(dl), "\n") != 2 {
			t.Errorf("dead-letter file: %v, %d lines", err, strings.Count(string(dl), "\n"))
		}
	}
	if s := es.Stats(); s.Created != 12 {
		t.Errorf("created %d documents, want the 12 process documents", s.Created)
	}
}
