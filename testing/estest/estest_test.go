package estest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestStartSharedCluster(t *testing.T) {
	c := Start(t)
	if c.Version == "" || c.URL == "" || c.Client == nil {
		t.Fatalf("incomplete cluster: %+v", c)
	}
	if again := Start(t); again != c {
		t.Errorf("second Start returned another cluster (%p, first %p)", again, c)
	}
	res, err := c.Client.Cluster.Health(c.Client.Cluster.Health.WithContext(context.Background()))
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	defer res.Body.Close()
	if res.IsError() {
		t.Fatalf("health: %s", res.Status())
	}
	if c.container != nil {
		// Our 1 GB must win over the 2 GB options file testcontainers adds.
		if heap := heapMax(t, c); heap > 1<<30 {
			t.Errorf("heap max %d bytes, want at most 1 GiB", heap)
		}
	}
}

func heapMax(t *testing.T, c *Cluster) int64 {
	t.Helper()
	res, err := c.Client.Nodes.Info(c.Client.Nodes.Info.WithNodeID("_local"), c.Client.Nodes.Info.WithMetric("jvm"),
		c.Client.Nodes.Info.WithFilterPath("nodes.*.jvm.mem.heap_max_in_bytes"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Nodes map[string]struct {
			JVM struct {
				Mem struct {
					HeapMax int64 `json:"heap_max_in_bytes"`
				} `json:"mem"`
			} `json:"jvm"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for _, n := range doc.Nodes {
		return n.JVM.Mem.HeapMax
	}
	t.Fatal("no node in _nodes answer")
	return 0
}

var slow = flag.Bool("estest.slow", false, "also run tests that start extra containers (outage)")

func TestStopStart(t *testing.T) {
	if !*slow {
		t.Skip("starts its own container; run with -estest.slow")
	}
	c := StartDedicated(t, Options{})
	ctx := context.Background()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Client.Info(); err == nil {
		res.Body.Close()
		t.Fatal("cluster answered while stopped")
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := c.Client.Info()
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	res.Body.Close()
}

func TestNamespaceUniqueAndValid(t *testing.T) {
	c := &Cluster{nsPrefix: "abc123"}
	valid := regexp.MustCompile(`^[a-z0-9_]{1,100}$`)
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		ns := c.Namespace(t)
		if !valid.MatchString(ns) {
			t.Errorf("namespace %q is not a valid data stream namespace", ns)
		}
		if seen[ns] {
			t.Errorf("namespace %q handed out twice", ns)
		}
		seen[ns] = true
	}
	t.Run("Sub-Test With/Odd.Chars", func(t *testing.T) {
		if ns := c.Namespace(t); !valid.MatchString(ns) || !strings.HasPrefix(ns, "testnamespaceuniqueandvalid_sub_test") {
			t.Errorf("namespace %q for a subtest", ns)
		}
	})
}

// recorder captures Skip/Fatal instead of ending the real test.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestUnavailableSkipsOrFailsUnderCI(t *testing.T) {
	for _, tc := range []struct {
		ci, skip   string
		wantFailed bool
	}{
		{ci: "", wantFailed: false},
		{ci: "true", wantFailed: true},
		{ci: "true", skip: "1", wantFailed: false},
		{ci: "true", skip: SkipAll, wantFailed: false},
		{ci: "false", wantFailed: false},
	} {
		t.Run(fmt.Sprintf("CI=%s,SKIP=%s", tc.ci, tc.skip), func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv(EnvSkip, tc.skip)
			var r recorder
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); unavailable(&r, "no engine") }()
			wg.Wait()
			if r.failed != tc.wantFailed || r.skipped == tc.wantFailed {
				t.Errorf("failed=%v skipped=%v, want failed=%v", r.failed, r.skipped, tc.wantFailed)
			}
			if !strings.Contains(r.msg, "no engine") || !strings.Contains(r.msg, ".ci/podman.sh") {
				t.Errorf("message lacks reason or instructions: %q", r.msg)
			}
		})
	}
}

// TestSkipAllSkipsWithAClusterAtHand: PROCBEAT_ES_SKIP=all gives a reason to
// skip before any cluster is looked for, even one named by PROCBEAT_ES_URL
// (here an address where nothing listens, which would be an error).
func TestSkipAllSkipsWithAClusterAtHand(t *testing.T) {
	t.Setenv(EnvSkip, SkipAll)
	t.Setenv(EnvURL, "http://127.0.0.1:1")
	for _, dedicated := range []bool{false, true} {
		c, skip, err := start(context.Background(), Options{}, dedicated)
		if c != nil || err != nil || !strings.Contains(skip, EnvSkip) {
			t.Errorf("dedicated %v: cluster %v, skip %q, error %v; want a skip naming %s", dedicated, c, skip, err, EnvSkip)
		}
	}
}

func TestEngineUnreachableIsReported(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/none.sock")
	if reason := engineReachable(context.Background()); !strings.Contains(reason, "none.sock") {
		t.Errorf("reason %q does not name the socket", reason)
	}
}
