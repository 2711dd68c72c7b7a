//go:build agent

package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/elastic/elastic-agent-client/v7/pkg/proto"

	"github.com/procbeat/procbeat/management/agent/agenttest"
	"github.com/procbeat/procbeat/testing/estest"
)

func TestMain(m *testing.M) { os.Exit(estest.Main(m)) }

// count refreshes and counts the namespace's process and api documents.
func count(t *testing.T, c *estest.Cluster, ns string) int {
	t.Helper()
	index := "logs-endpoint.events.*-" + ns
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if res, err := c.Client.Indices.Refresh(c.Client.Indices.Refresh.WithContext(ctx), c.Client.Indices.Refresh.WithIndex(index),
		c.Client.Indices.Refresh.WithAllowNoIndices(true), c.Client.Indices.Refresh.WithIgnoreUnavailable(true)); err == nil {
		res.Body.Close()
	}
	res, err := c.Client.Count(c.Client.Count.WithContext(ctx), c.Client.Count.WithIndex(index),
		c.Client.Count.WithAllowNoIndices(true), c.Client.Count.WithIgnoreUnavailable(true))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Count int `json:"count"`
	}
	if res.StatusCode >= 500 {
		// A busy or restarting node answers 503 for a moment.
		t.Logf("count %s: %s", index, res.String())
		return -1
	}
	if res.IsError() {
		t.Fatalf("count %s: %s", index, res.String())
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Count
}

func waitCount(t *testing.T, c *estest.Cluster, ns string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := count(t, c, ns)
		if got == n {
			return
		}
		if got > n {
			t.Fatalf("%d documents in %s, want %d", got, ns, n)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d documents in %s after %s, want %d", got, ns, timeout, n)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func clusterOutput(c *estest.Cluster, url string) map[string]any {
	out := esOutput(url)
	if c.Username != "" {
		out["username"], out["password"] = c.Username, c.Password
	}
	return out
}

func nsInput(dir, ns string) map[string]any {
	in := xmlInput(dir)
	in["data_stream"] = map[string]any{"namespace": ns}
	return in
}

// Elasticsearch stopped and started again: the output unit goes degraded
// with the reason and healthy again, and what was read meanwhile arrives
// exactly once.
func TestElasticsearchUnreachableAndBack(t *testing.T) {
	c := estest.StartDedicated(t, estest.Options{})
	px := estest.NewProxy(t, c.URL)
	ns := c.Namespace(t)
	dir := t.TempDir()
	writeSample(t, dir, "a.xml", "a")
	a := agenttest.Start(t, false)
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", clusterOutput(c, px.URL()))
	a.SetUnit(t, inputID, inputUnit, "procbeat/xml", nsInput(dir, ns))
	startNS(t, a, ns)
	waitCount(t, c, ns, docsPerFS, time.Minute)
	a.WaitState(t, outputID, proto.State_HEALTHY, 20*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	writeSample(t, dir, "b.xml", "b")
	msg := a.WaitState(t, outputID, proto.State_DEGRADED, time.Minute)
	if !strings.Contains(msg, "unreachable") && !strings.Contains(msg, "unavailable") {
		t.Errorf("degraded with %q", msg)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	px.Retarget(t, c.URL)
	a.WaitState(t, outputID, proto.State_HEALTHY, 2*time.Minute)
	waitCount(t, c, ns, 2*docsPerFS, 2*time.Minute)
	time.Sleep(2 * time.Second)
	waitCount(t, c, ns, 2*docsPerFS, 30*time.Second)
	if h := a.History(outputID); !agenttest.InOrder(h, []proto.State{proto.State_HEALTHY, proto.State_DEGRADED, proto.State_HEALTHY}) {
		t.Errorf("output states %v", h)
	}
}

// The agent build of procbeat run as Agent runs it: connection information
// on standard input, the arguments of procbeat.spec.yml, a replay
// directory as input and a real cluster as output.
func TestBinaryUnderAgent(t *testing.T) {
	c := estest.Start(t)
	ns := c.Namespace(t)
	bin := filepath.Join(t.TempDir(), "procbeat")
	build := exec.Command("go", "build", "-tags", "agent", "-o", bin, "../../cmd/procbeat")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags agent: %v\n%s", err, out)
	}
	setupArgs := []string{"setup", "--path.home", t.TempDir(), "-E", `output.elasticsearch.hosts=["` + c.URL + `"]`}
	if c.Username != "" {
		setupArgs = append(setupArgs, "-E", "output.elasticsearch.username="+c.Username, "-E", "output.elasticsearch.password="+c.Password)
	}
	if out, err := exec.Command(bin, setupArgs...).CombinedOutput(); err != nil {
		t.Fatalf("procbeat setup: %v\n%s", err, out)
	}

	dir := t.TempDir()
	writeSample(t, dir, "a.xml", "bin")
	a := agenttest.Start(t, true)
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", clusterOutput(c, c.URL))
	a.SetUnit(t, inputID, inputUnit, "procbeat/xml", nsInput(dir, ns))

	home := t.TempDir()
	cmd := exec.Command(bin, "-E", "management.enabled=true", "-E", "setup.ilm.enabled=false", "-E", "setup.template.enabled=false",
		"-E", "logging.to_stderr=true", "--path.home", home, "-E", "procbeat.namespace="+ns, "-E", "procbeat.scan_frequency=1s")
	cmd.Stdin = bytes.NewReader(a.StartUpInfo(t))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	a.WaitState(t, inputID, proto.State_HEALTHY, time.Minute)
	a.WaitState(t, outputID, proto.State_HEALTHY, time.Minute)
	waitCount(t, c, ns, docsPerFS, time.Minute)
	time.Sleep(3 * time.Second) // two more scans: nothing is sent again
	waitCount(t, c, ns, docsPerFS, 30*time.Second)

	a.SetState(inputID, proto.State_STOPPED)
	a.SetState(outputID, proto.State_STOPPED)
	a.WaitState(t, inputID, proto.State_STOPPED, time.Minute)
	a.WaitState(t, outputID, proto.State_STOPPED, time.Minute)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("procbeat exited with %v\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("procbeat did not exit after SIGTERM\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(home, "data", "registry.json")); err != nil {
		t.Errorf("no checkpoints: %v\n%s", err, stderr.String())
	}
	waitCount(t, c, ns, docsPerFS, 30*time.Second)
}
