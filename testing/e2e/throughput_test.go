package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/testing/estest"
)

// EnvBench turns on TestThroughput.
const EnvBench = "PROCBEAT_E2E_BENCH"

// benchRounds is how many times each side is measured; medians are
// reported.
const benchRounds = 5

// bulkDocs and bulkWorkers match procbeat's output defaults
// (bulk_max_size 1600, 2 workers), so the raw side sends the same requests
// procbeat would, minus compression.
const (
	bulkDocs    = 1600
	bulkWorkers = 2
)

// TestThroughput measures documents per second from EVTX files to indexed
// documents (procbeat replay, process start to exit), next to what the
// same cluster indexes when the same documents arrive as pre-encoded bulk
// requests from a plain client: the ceiling procbeat is measured against.
// Each round writes to fresh data streams (a namespace of its own).
func TestThroughput(t *testing.T) {
	if os.Getenv(EnvBench) != "1" {
		t.Skipf("set %s=1 to measure end-to-end throughput (minutes)", EnvBench)
	}
	copies := 8
	if v := os.Getenv(EnvBench + "_COPIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s_COPIES=%q: want a positive number", EnvBench, v)
		}
		copies = n
	}
	files := benchFiles(t)
	chunks := cleanChunks(t, files)
	input := filepath.Join(t.TempDir(), "corpus-chunks.evtx")
	writeEVTX(t, input, chunks, copies)
	st, err := os.Stat(input)
	if err != nil {
		t.Fatal(err)
	}
	c := estest.Start(t)
	e := es{t, c}
	setup(t, c)

	// The raw side's documents: procbeat's own output for the same file,
	// with a placeholder namespace replaced per round (untimed).
	const placeholder = "zzbenchplaceholderzz"
	ndjson, _ := procbeat(t, "replay", input, "-E", "procbeat.namespace="+placeholder)

	var procbeatRates, rawRates []float64
	var docs int
	for round := range benchRounds {
		ns := c.Namespace(t)
		start := time.Now()
		_, stderr := procbeat(t, append([]string{"replay", input, "-E", "procbeat.namespace=" + ns, "-E", "path.data=" + t.TempDir()}, esArgs(c, c.URL)...)...)
		elapsed := time.Since(start)
		n := summaryDocuments(t, stderr)
		e.refresh(allStreams(ns))
		if indexed := e.count(allStreams(ns), nil); indexed != n {
			t.Errorf("procbeat round %d: %d documents shipped, %d indexed", round, n, indexed)
		}
		procbeatRates = append(procbeatRates, float64(n)/elapsed.Seconds())
		t.Logf("procbeat round %d: %d documents in %v: %.0f docs/s", round, n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
		docs = n

		rawNS := c.Namespace(t)
		bodies, m := bulkBodies(t, strings.ReplaceAll(ndjson, `"namespace":"`+placeholder+`"`, `"namespace":"`+rawNS+`"`), rawNS)
		start = time.Now()
		sendBulks(t, e, bodies)
		elapsed = time.Since(start)
		e.refresh(allStreams(rawNS))
		if got := e.count(allStreams(rawNS), nil); got != m {
			t.Errorf("raw round %d: %d documents sent, %d indexed", round, m, got)
		}
		rawRates = append(rawRates, float64(m)/elapsed.Seconds())
		t.Logf("raw bulk round %d: %d documents in %d requests in %v: %.0f docs/s", round, m, len(bodies), elapsed.Round(time.Millisecond), float64(m)/elapsed.Seconds())
	}
	p, r := median(procbeatRates), median(rawRates)
	t.Logf("input: %d clean chunks of %d corpus EVTX files x %d copies = %d MB; %d documents per round; %d rounds; Elasticsearch %s",
		len(chunks), len(files), copies, st.Size()>>20, docs, benchRounds, c.Version)
	t.Logf("median: procbeat %.0f docs/s (EVTX file to indexed, process start to exit), raw bulk %.0f docs/s (pre-encoded, %d docs/request, %d connections): procbeat reaches %.0f%% of the ceiling",
		p, r, bulkDocs, bulkWorkers, 100*p/r)
}

// benchFiles are the corpus EVTX files holding process events, each
// content once.
func benchFiles(t *testing.T) []string {
	t.Helper()
	dir := corpus.Require(t)
	man, err := corpus.Manifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[[32]byte]bool{}
	var files []string
	for rel, e := range man {
		c := e.Counts
		if filepath.Ext(rel) != ".evtx" || c.SysmonEID1+c.SysmonEID5+c.SysmonEID10+c.Sec4688+c.Sec4689 == 0 {
			continue
		}
		path := filepath.Join(dir, rel)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if !seen[sum] {
			seen[sum] = true
			files = append(files, path)
		}
	}
	slices.Sort(files)
	return files
}

var documentsRE = regexp.MustCompile(`(?m)^documents: (\d+)`)

func summaryDocuments(t *testing.T, stderr string) int {
	t.Helper()
	m := documentsRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary in procbeat's stderr:\n%s", tail(stderr, 20))
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// bulkBodies encodes NDJSON documents as bulk create requests of bulkDocs
// each, as procbeat's output would (same _index and _id).
func bulkBodies(t *testing.T, ndjson, ns string) ([][]byte, int) {
	t.Helper()
	var bodies [][]byte
	var cur bytes.Buffer
	n, inBody := 0, 0
	sc := bufio.NewScanner(strings.NewReader(ndjson))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var d struct {
			Event struct{ ID, Dataset string }
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cur, `{"create":{"_index":"logs-%s-%s","_id":%q}}`+"\n", d.Event.Dataset, ns, d.Event.ID)
		cur.Write(sc.Bytes())
		cur.WriteByte('\n')
		n++
		if inBody++; inBody == bulkDocs {
			bodies = append(bodies, bytes.Clone(cur.Bytes()))
			cur.Reset()
			inBody = 0
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if inBody > 0 {
		bodies = append(bodies, bytes.Clone(cur.Bytes()))
	}
	return bodies, n
}

// sendBulks posts the bodies from bulkWorkers goroutines and fails on any
// item error: every document is new.
func sendBulks(t *testing.T, e es, bodies [][]byte) {
	t.Helper()
	work := make(chan []byte)
	errs := make(chan error, len(bodies))
	var wg sync.WaitGroup
	for range bulkWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range work {
				errs <- postBulk(e, body)
			}
		}()
	}
	for _, b := range bodies {
		work <- b
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func postBulk(e es, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.c.URL+"/_bulk", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	res, err := e.c.Client.Perform(req)
	if err != nil {
		return fmt.Errorf("bulk: %w", err)
	}
	defer res.Body.Close()
	var r struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		return fmt.Errorf("bulk: %s: %w", res.Status, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("bulk: %s", res.Status)
	}
	for i, it := range r.Items {
		for _, res := range it {
			if res.Status > 299 {
				return fmt.Errorf("bulk item %d: %d %s", i, res.Status, res.Error)
			}
		}
	}
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
