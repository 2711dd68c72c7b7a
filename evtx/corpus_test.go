package evtx

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/winevent"
)

type manifestEntry struct {
	path     string // relative to the corpus dir
	total    int    // records_total (consensus)
	counts   string // parser_record_counts
	notes    string
	sysmon1  int
	sysmon5  int
	sysmon10 int
	sec4688  int
}

func readManifest(tb testing.TB, dir string) []manifestEntry {
	tb.Helper()
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cols map[string]int
	var out []manifestEntry
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = map[string]int{}
			for i, c := range fields {
				cols[c] = i
			}
			continue
		}
		get := func(c string) string {
			i, ok := cols[c]
			if !ok || i >= len(fields) {
				return ""
			}
			return fields[i]
		}
		atoi := func(c string) int { n, _ := strconv.Atoi(get(c)); return n }
		p := get("path")
		if !strings.HasSuffix(strings.ToLower(p), ".evtx") {
			continue
		}
		out = append(out, manifestEntry{path: p, total: atoi("records_total"), counts: get("parser_record_counts"),
			notes: get("notes"), sysmon1: atoi("sysmon_eid1"), sysmon5: atoi("sysmon_eid5"),
			sysmon10: atoi("sysmon_eid10"), sec4688: atoi("sec_4688")})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// readAll decodes a whole file and returns counts.
func readAll(tb testing.TB, path string, opts Options) (n int, errs []error, st Stats) {
	tb.Helper()
	opts.OnError = func(err error) { errs = append(errs, err) }
	r, err := Open(path, opts)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	defer r.Close()
	for r.Next(context.Background()) {
		n++
	}
	if err := r.Err(); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return n, errs, r.Stats()
}

// corpusExceptions lists the files where our record count differs from the
// manifest's consensus (records_total), with the count we expect and why.
var corpusExceptions = map[string]struct {
	want int
	why  string
}{
	"omerbenamram-evtx/samples/2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx": {1910,
		"records 6335011 and 6914519 have substitution values running past the record; Velocidex returns them as garbage " +
			"(one without EventID), we report them as RecordErrors; Rust evtx also expects 1910 ok"},
	"omerbenamram-evtx/samples/2-vss_0-Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx": {1795,
		"chunk 1 holds a stale record 463011 (id outside the chunk's range, corrupt BinXML): we report it and resynchronise, " +
			"recovering the 21 valid records 401576-401596 after it that Velocidex loses"},
	"omerbenamram-evtx/samples/sample-with-zero-data-size-event.evtx": {449,
		"Velocidex loops on the zero-size record 3 (450 = 336 unique + 114 duplicates); we report record 3 and resynchronise, " +
			"recovering records 4-117 of chunk 0, no duplicates"},
	"omerbenamram-evtx/samples/sample_with_a_bad_chunk_magic.evtx": {301,
		"chunk 7 has a corrupt record; we resynchronise and recover records 47675-47705 (inside the chunk header's id range) that Velocidex loses"},
}

func TestCorpusCounts(t *testing.T) {
	dir := corpus.Require(t)
	entries := readManifest(t, dir)
	if len(entries) == 0 {
		t.Fatal("manifest lists no EVTX files")
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.path)
		var n, s1, s5, s10, s4688 int
		var errs []error
		r, err := Open(path, Options{OnError: func(err error) { errs = append(errs, err) }})
		if err != nil {
			t.Fatalf("%s: %v", e.path, err)
		}
		for r.Next(context.Background()) {
			n++
			rec := r.Record()
			switch {
			case rec.Provider == winevent.ProviderSysmon && rec.EventID == 1:
				s1++
			case rec.Provider == winevent.ProviderSysmon && rec.EventID == 5:
				s5++
			case rec.Provider == winevent.ProviderSysmon && rec.EventID == 10:
				s10++
			case rec.Provider == winevent.ProviderSecurity && rec.EventID == 4688:
				s4688++
			}
		}
		if err := r.Err(); err != nil {
			t.Errorf("%s: %v", e.path, err)
		}
		r.Close()
		want := e.total
		if ex, ok := corpusExceptions[e.path]; ok {
			want = ex.want
			if n > e.total {
				t.Logf("%s: %d records, consensus %d: %s", e.path, n, e.total, ex.why)
			}
		}
		if n != want {
			t.Errorf("%s: %d records, want %d (consensus %d, %s)", e.path, n, want, e.total, e.counts)
		}
		if s1 != e.sysmon1 || s5 != e.sysmon5 || s10 != e.sysmon10 || s4688 != e.sec4688 {
			t.Errorf("%s: process events 1/5/10/4688 = %d/%d/%d/%d, manifest %d/%d/%d/%d",
				e.path, s1, s5, s10, s4688, e.sysmon1, e.sysmon5, e.sysmon10, e.sec4688)
		}
		for _, err := range errs {
			var re *RecordError
			var ce *ChunkError
			var fe *FileError
			if !errors.As(err, &re) && !errors.As(err, &ce) && !errors.As(err, &fe) {
				t.Errorf("%s: untyped error %v", e.path, err)
			}
			if errors.Is(err, ErrPanic) {
				t.Errorf("%s: decoder panic: %v", e.path, err)
			}
		}
	}
}

// TestCorpusBrokenFiles checks the deliberately broken files: errors name
// the chunk and record, and neighbours of broken records are kept.
func TestCorpusBrokenFiles(t *testing.T) {
	dir := corpus.Require(t)
	seen := 0
	for _, e := range readManifest(t, dir) {
		if !strings.Contains(e.notes, "MALFORMED") {
			continue
		}
		seen++
		path := filepath.Join(dir, e.path)
		n, errs, st := readAll(t, path, Options{Workers: 2})
		if n == 0 {
			t.Errorf("%s: no records recovered", e.path)
		}
		// Files broken in their checksums or record layout must say so;
		// the others (bad strings, odd header flags, chunks after zeroed
		// space) decode cleanly.
		mustErr := strings.Contains(e.notes, "CRC") || strings.Contains(e.notes, "data size is 0") || strings.Contains(e.notes, "bad chunk magic")
		if mustErr && len(errs) == 0 {
			t.Errorf("%s: broken file reported no error", e.path)
		}
		for _, err := range errs {
			var re *RecordError
			if errors.As(err, &re) {
				// A record whose header is unreadable has no id: its
				// offset names it.
				where := fmt.Sprintf("chunk %d record %d (file offset %#x)", re.Chunk, re.Record, re.Offset)
				if re.Record == 0 {
					where = fmt.Sprintf("chunk %d record at file offset %#x", re.Chunk, re.Offset)
				}
				if !strings.Contains(err.Error(), where) || re.File != path {
					t.Errorf("%s: record error does not name file, chunk, record and offset: %v", e.path, err)
				}
			}
		}
		t.Logf("%s: %d records, %d errors, stats %+v", e.path, n, len(errs), st)
	}
	if seen == 0 {
		t.Fatal("manifest notes name no MALFORMED file")
	}
}

// TestCorpusBrokenMemory decodes every broken file in a child process and
// checks the memory it took from the OS stays under 64 MiB.
func TestCorpusBrokenMemory(t *testing.T) {
	dir := corpus.Require(t)
	if os.Getenv("EVTX_MEM_CHILD") == "1" {
		for _, e := range readManifest(t, dir) {
			if strings.Contains(e.notes, "MALFORMED") || strings.Contains(e.notes, "EDGE") {
				readAll(t, filepath.Join(dir, e.path), Options{})
			}
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("EVTX_MEM_SYS=%d\n", ms.Sys)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCorpusBrokenMemory$", "-test.count=1")
	cmd.Env = append(os.Environ(), "EVTX_MEM_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	i := bytes.Index(out, []byte("EVTX_MEM_SYS="))
	if i < 0 {
		t.Fatalf("child output: %s", out)
	}
	var sys uint64
	fmt.Sscanf(string(out[i:]), "EVTX_MEM_SYS=%d", &sys)
	t.Logf("memory obtained from the OS while decoding the broken and edge-case files: %.1f MiB", float64(sys)/(1<<20))
	if sys > 64<<20 {
		t.Errorf("memory %d bytes exceeds 64 MiB", sys)
	}
}

// TestCorpusParallelOrder: parallel decoding yields exactly the sequential
// record sequence.
func TestCorpusParallelOrder(t *testing.T) {
	dir := corpus.Require(t)
	for _, f := range []string{"omerbenamram-evtx/samples/security.evtx", "python-evtx/tests/data/issue_43.evtx"} {
		var seqs [2][]string
		for i, w := range []int{1, 4} {
			r, err := Open(filepath.Join(dir, f), Options{Workers: w})
			if err != nil {
				t.Fatal(err)
			}
			for r.Next(context.Background()) {
				rec := r.Record()
				seqs[i] = append(seqs[i], fmt.Sprint(rec.RecordID, rec.EventID, rec.Data))
			}
			r.Close()
		}
		if len(seqs[0]) == 0 || strings.Join(seqs[0], "\n") != strings.Join(seqs[1], "\n") {
			t.Errorf("%s: parallel sequence differs (%d vs %d records)", f, len(seqs[0]), len(seqs[1]))
		}
	}
}
