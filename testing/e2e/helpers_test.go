package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/testing/estest"
)

// Data streams procbeat writes for a namespace.
func processStream(ns string) string { return "logs-endpoint.events.process-" + ns }
func apiStream(ns string) string     { return "logs-endpoint.events.api-" + ns }
func allStreams(ns string) string    { return "logs-endpoint.events.*-" + ns }

// repoRoot is the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

func samplePath(t testing.TB) string {
	return filepath.Join(repoRoot(t), "testdata", "sample", "sample.xml")
}

// esArgs are the -E flags pointing procbeat at url.
func esArgs(c *estest.Cluster, url string) []string {
	args := []string{"-E", `output.elasticsearch.hosts=["` + url + `"]`}
	if c.Username != "" {
		args = append(args, "-E", "output.elasticsearch.username="+c.Username, "-E", "output.elasticsearch.password="+c.Password)
	}
	return args
}

// command prepares procbeat with args, run in an empty directory so that no
// procbeat.yml of the developer's is picked up.
func command(t testing.TB, ctx context.Context, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.CommandContext(ctx, procbeatBin, args...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// procbeat runs the procbeatBin to completion (at most 5 minutes) and fails the
// test when it exits with an error.
func procbeat(t testing.TB, args ...string) (stdout, stderr string) {
	t.Helper()
	return procbeatExit(t, 0, args...)
}

// procbeatExit runs the procbeatBin to completion (at most 5 minutes) and
// fails the test unless it exits with code (replay's exit codes say whether
// some input could not be decoded).
func procbeatExit(t testing.TB, code int, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd, out, errb := command(t, ctx, args...)
	err := cmd.Run()
	got := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		got = exit.ExitCode()
	}
	if (err != nil && exit == nil) || got != code {
		t.Fatalf("procbeat %s: %v, want exit status %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, code, out, tail(errb.String(), 40))
	}
	return out.String(), errb.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// setup installs the templates; they are shared by every namespace, and
// setup is idempotent, so each test may call it.
func setup(t testing.TB, c *estest.Cluster) (stdout, stderr string) {
	t.Helper()
	return procbeat(t, append([]string{"setup"}, esArgs(c, c.URL)...)...)
}

// replay ships files into namespace ns with a fresh path.data.
func replay(t testing.TB, c *estest.Cluster, ns string, files ...string) (stdout, stderr string) {
	t.Helper()
	return replayExit(t, c, ns, 0, files...)
}

// replayExit is replay expecting exit status code.
func replayExit(t testing.TB, c *estest.Cluster, ns string, code int, files ...string) (stdout, stderr string) {
	t.Helper()
	args := append([]string{"replay"}, files...)
	args = append(args, esArgs(c, c.URL)...)
	args = append(args, "-E", "procbeat.namespace="+ns, "-E", "path.data="+t.TempDir())
	return procbeatExit(t, code, args...)
}

// doc is the part of a procbeat document the tests look at.
type doc struct {
	ID               string
	Dataset          string
	Action           string
	HostOSType       string
	CallStackSummary string
}

// localDocs replays files to stdout (no Elasticsearch) and returns the
// documents procbeat makes of them: what the cluster should end up holding.
func localDocs(t testing.TB, files ...string) []doc {
	t.Helper()
	out, _ := procbeat(t, append([]string{"replay"}, files...)...)
	var docs []doc
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var d struct {
			Event struct {
				ID, Dataset, Action string
			}
			Host struct {
				OS struct {
					Type string
				}
			}
			Process struct {
				Thread struct {
					Ext struct {
						CallStackSummary string `json:"call_stack_summary"`
					}
				}
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("procbeat stdout: %v: %.200s", err, sc.Text())
		}
		docs = append(docs, doc{ID: d.Event.ID, Dataset: d.Event.Dataset, Action: d.Event.Action, HostOSType: d.Host.OS.Type,
			CallStackSummary: d.Process.Thread.Ext.CallStackSummary})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return docs
}

// kinds counts the process-start, process-end and access records of a
// rendered-XML export by provider and event id, independently of
// procbeat's decoders.
type kinds struct{ start, end, access int }

var xmlEvent = regexp.MustCompile(`<Provider Name="([^"]+)"[^>]*/>\s*<EventID[^>]*>(\d+)</EventID>`)

func countXML(t testing.TB, path string) kinds {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var k kinds
	for _, m := range xmlEvent.FindAllSubmatch(data, -1) {
		switch string(m[1]) + "/" + string(m[2]) {
		case "Microsoft-Windows-Sysmon/1", "Microsoft-Windows-Security-Auditing/4688":
			k.start++
		case "Microsoft-Windows-Sysmon/5", "Microsoft-Windows-Security-Auditing/4689":
			k.end++
		case "Microsoft-Windows-Sysmon/10":
			k.access++
		}
	}
	return k
}

// es is a thin JSON client over the test cluster.
type es struct {
	t testing.TB
	c *estest.Cluster
}

// do sends a request and returns the body; statuses outside 2xx fail the test.
func (e es) do(method, path string, body any) []byte {
	e.t.Helper()
	status, data := e.try(method, path, body)
	if status < 200 || status > 299 {
		e.t.Fatalf("%s %s: %d %s", method, path, status, data)
	}
	return data
}

// try sends a request and returns status and body.
func (e es) try(method, path string, body any) (int, []byte) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.c.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := e.c.Client.Perform(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return res.StatusCode, data
}

func (e es) decode(data []byte, into any) {
	e.t.Helper()
	if err := json.Unmarshal(data, into); err != nil {
		e.t.Fatalf("decode %.300s: %v", data, err)
	}
}

func (e es) refresh(target string) {
	e.t.Helper()
	e.do(http.MethodPost, "/"+target+"/_refresh?expand_wildcards=all", nil)
}

// count returns how many documents of target match query (a Query DSL
// clause; nil matches all).
func (e es) count(target string, query any) int {
	e.t.Helper()
	body := map[string]any{}
	if query != nil {
		body["query"] = query
	}
	var res struct {
		Count int `json:"count"`
	}
	e.decode(e.do(http.MethodPost, "/"+target+"/_count", body), &res)
	return res.Count
}

// tryCount refreshes target and counts its documents; ok is false while
// the cluster cannot answer yet (a new backing index whose shard is not
// allocated answers 503), which pollers treat as "not yet".
func (e es) tryCount(target string) (n int, ok bool) {
	e.t.Helper()
	if status, _ := e.try(http.MethodPost, "/"+target+"/_refresh?expand_wildcards=all", nil); status != http.StatusOK {
		return 0, false
	}
	status, data := e.try(http.MethodPost, "/"+target+"/_count", map[string]any{})
	if status == http.StatusServiceUnavailable {
		return 0, false
	}
	if status != http.StatusOK {
		e.t.Fatalf("POST /%s/_count: %d %s", target, status, data)
	}
	var res struct {
		Count int `json:"count"`
	}
	e.decode(data, &res)
	return res.Count, true
}

func term(field, value string) map[string]any {
	return map[string]any{"term": map[string]any{field: value}}
}

// hit is one search result.
type hit struct {
	Index  string          `json:"_index"`
	ID     string          `json:"_id"`
	Source json.RawMessage `json:"_source"`
}

// search runs query (raw Query DSL clause) over target and returns every
// hit (up to 10000, the default result window), failing the test when
// there are more.
func (e es) search(target string, query json.RawMessage) []hit {
	e.t.Helper()
	body := fmt.Sprintf(`{"size":10000,"track_total_hits":true,"query":%s}`, query)
	var res struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
			Hits []hit `json:"hits"`
		} `json:"hits"`
	}
	e.decode(e.do(http.MethodPost, "/"+target+"/_search", body), &res)
	if res.Hits.Total.Value != len(res.Hits.Hits) {
		e.t.Fatalf("search %s: %d hits, only %d returned", target, res.Hits.Total.Value, len(res.Hits.Hits))
	}
	return res.Hits.Hits
}

// duplicateEventIDs returns event.id values held by more than one document
// of target.
func (e es) duplicateEventIDs(target string) map[string]int {
	e.t.Helper()
	body := `{"size":0,"aggs":{"dup":{"terms":{"field":"event.id","min_doc_count":2,"size":100}}}}`
	var res struct {
		Aggregations struct {
			Dup struct {
				Buckets []struct {
					Key      string `json:"key"`
					DocCount int    `json:"doc_count"`
				} `json:"buckets"`
			} `json:"dup"`
		} `json:"aggregations"`
	}
	e.decode(e.do(http.MethodPost, "/"+target+"/_search", body), &res)
	out := map[string]int{}
	for _, b := range res.Aggregations.Dup.Buckets {
		out[b.Key] = b.DocCount
	}
	return out
}
