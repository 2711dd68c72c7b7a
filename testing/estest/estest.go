// Package estest gives tests a real Elasticsearch cluster.
//
// Where the cluster comes from, in order:
//  1. PROCBEAT_ES_URL (for example http://elastic:changeme@127.0.0.1:9200):
//     an existing cluster, used as is.
//  2. A container engine reachable through DOCKER_HOST (or the default
//     sockets) and an Elasticsearch image available to it: the image named
//     by PROCBEAT_ES_IMAGE, else the official image (DefaultImage), else
//     procbeat's locally built one (LocalImage, from tools/esimage/build.sh).
//     The container runs through testcontainers-go's elasticsearch module
//     with security disabled and a 1 GB heap.
//  3. Otherwise the test is skipped with instructions, except under CI=true,
//     where it fails so that CI never silently skips; PROCBEAT_ES_SKIP=1
//     turns the failure back into a skip.
//
// PROCBEAT_ES_SKIP=all skips every Elasticsearch test, a cluster at hand or
// not: mage's race pass sets it, as those tests ran in the pass before it.
//
// Containers are shared by all tests of a test binary when the package's
// TestMain hands over to Main; without it every Start call gets its own
// container, removed when the test ends (slower but never leaked, which
// matters because the reaper container is disabled under podman).
package estest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tces "github.com/testcontainers/testcontainers-go/modules/elasticsearch"
)

// Pinned images. The tag's version is what testcontainers parses to decide
// on 8.x behaviour, so both must carry a real Elasticsearch version. The
// local tag's suffix says what tools/esimage adds to the bare distribution
// (the x-pack-kql plugin); it is the tag build.sh prints.
const (
	ESVersion    = "8.19.21"
	DefaultImage = "docker.elastic.co/elasticsearch/elasticsearch:" + ESVersion
	LocalImage   = "localhost/procbeat-es:" + ESVersion + "-kql"
)

// Environment variables read by the harness.
const (
	EnvURL   = "PROCBEAT_ES_URL"
	EnvImage = "PROCBEAT_ES_IMAGE"
	EnvSkip  = "PROCBEAT_ES_SKIP"
	// SkipAll, as EnvSkip's value, skips every Elasticsearch test.
	SkipAll = "all"
)

// DefaultPassword is the "elastic" user's password in containers started
// with Options.Security.
const DefaultPassword = "changeme"

const howTo = `To run Elasticsearch tests locally:
  eval "$(.ci/podman.sh)"        # podman serving the Docker API, exports DOCKER_HOST etc.
  tools/esimage/build.sh         # builds or loads ` + LocalImage + `
  go test ./...                  # uses ` + DefaultImage + ` if present, else the local image
PROCBEAT_ES_IMAGE names another image; or point the tests at a running cluster with PROCBEAT_ES_URL=http://user:pass@host:9200.
Under CI=true missing Elasticsearch fails the tests; PROCBEAT_ES_SKIP=1 skips them instead.`

// Options select a non-default cluster; they need a container engine.
type Options struct {
	// Security enables xpack security (basic auth as "elastic" with
	// DefaultPassword, plain HTTP).
	Security bool
	// ConfigFiles are written to /usr/share/elasticsearch/config/<name>
	// before the server starts: for example file-realm users ("users",
	// "users_roles", "roles.yml"), the only realm that works on the
	// integ-test-zip image, whose .security index cannot be created.
	ConfigFiles map[string][]byte
	// TLS serves HTTP over TLS (needs Security); see TLS.
	TLS *TLS
}

// Cluster is a running Elasticsearch cluster.
type Cluster struct {
	// URL is the base address, without credentials.
	URL string
	// Username and Password are empty when security is disabled.
	Username, Password string
	// Client talks to URL with the credentials above.
	Client *elasticsearch.Client
	// Version is the server's version number, e.g. "8.19.21".
	Version string

	container *tces.ElasticsearchContainer // nil for PROCBEAT_ES_URL clusters
	// tlsClient is how the harness connects to a TLS cluster (nil: plain HTTP).
	tlsClient *tls.Config
	nsCounter atomic.Uint64
	nsPrefix  string
}

// Harness shares one cluster between the tests that use it.
type Harness struct {
	once    sync.Once
	cluster *Cluster
	err     error
	skip    string
}

// defaultHarness is the only package state: it has to live as long as the
// test binary so that Main can remove the container it started.
var defaultHarness struct {
	mu      sync.Mutex
	inMain  bool
	harness Harness
}

// Main runs the tests of a package and then removes the shared container:
//
//	func TestMain(m *testing.M) { os.Exit(estest.Main(m)) }
func Main(m *testing.M) int {
	defaultHarness.mu.Lock()
	defaultHarness.inMain = true
	defaultHarness.mu.Unlock()
	code := m.Run()
	if err := defaultHarness.harness.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "estest: %v\n", err)
	}
	return code
}

// Start returns the package's shared cluster (see Main), starting it on
// first use, or skips/fails the test as described in the package comment.
func Start(t testing.TB) *Cluster {
	t.Helper()
	defaultHarness.mu.Lock()
	shared := defaultHarness.inMain
	defaultHarness.mu.Unlock()
	if shared {
		return defaultHarness.harness.Start(t)
	}
	return StartDedicated(t, Options{})
}

// Start returns h's cluster, starting it on the first call. Call Close
// when the tests are done.
func (h *Harness) Start(t testing.TB) *Cluster {
	t.Helper()
	h.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		h.cluster, h.skip, h.err = start(ctx, Options{}, false)
	})
	return h.result(t)
}

// Close removes the container started by h, if any.
func (h *Harness) Close() error {
	if h.cluster == nil || h.cluster.container == nil {
		return nil
	}
	if err := testcontainers.TerminateContainer(h.cluster.container); err != nil {
		return fmt.Errorf("remove elasticsearch container: %w", err)
	}
	return nil
}

func (h *Harness) result(t testing.TB) *Cluster {
	t.Helper()
	switch {
	case h.err != nil:
		t.Fatalf("elasticsearch: %v", h.err)
	case h.skip != "":
		unavailable(t, h.skip)
	}
	return h.cluster
}

// StartDedicated starts a container of its own for this test (for outage
// tests or other settings), removed when the test ends. It cannot use
// PROCBEAT_ES_URL clusters, so with only that configured the test skips.
func StartDedicated(t testing.TB, opts Options) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, skip, err := start(ctx, opts, true)
	if c != nil && c.container != nil {
		t.Cleanup(func() {
			if err := testcontainers.TerminateContainer(c.container); err != nil {
				t.Errorf("remove elasticsearch container: %v", err)
			}
		})
	}
	h := Harness{cluster: c, skip: skip, err: err}
	return h.result(t)
}

// unavailable skips, or fails under CI, when no cluster can be had.
func unavailable(t testing.TB, reason string) {
	t.Helper()
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	if skip := os.Getenv(EnvSkip); ci && skip != "1" && skip != SkipAll {
		t.Fatalf("elasticsearch unavailable under CI=true: %s\n%s", reason, howTo)
	}
	t.Skipf("elasticsearch unavailable: %s\n%s", reason, howTo)
}

// start returns a cluster, or a reason to skip, or an error for a cluster
// that was configured or found but does not work.
func start(ctx context.Context, opts Options, dedicated bool) (*Cluster, string, error) {
	if os.Getenv(EnvSkip) == SkipAll {
		return nil, EnvSkip + "=" + SkipAll, nil
	}
	if raw := os.Getenv(EnvURL); raw != "" && !dedicated {
		c, err := external(ctx, raw)
		return c, "", err
	}
	if reason := engineReachable(ctx); reason != "" {
		return nil, reason, nil
	}
	image, reason := pickImage(ctx)
	if reason != "" {
		return nil, reason, nil
	}
	c, err := runContainer(ctx, image, opts)
	return c, "", err
}

func external(ctx context.Context, raw string) (*Cluster, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%s=%q: not an http(s) URL", EnvURL, raw)
	}
	c := &Cluster{}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		u.User = nil
	}
	c.URL = strings.TrimRight(u.String(), "/")
	if err := c.connect(ctx); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvURL, err)
	}
	return c, nil
}

// engineReachable reports why no container engine answers, or "".
func engineReachable(ctx context.Context) string {
	host := os.Getenv("DOCKER_HOST")
	var candidates []string
	switch {
	case strings.HasPrefix(host, "unix://"):
		candidates = []string{strings.TrimPrefix(host, "unix://")}
	case host != "":
		return "" // tcp:// and the like: let testcontainers try it
	default:
		candidates = []string{"/var/run/docker.sock", "/run/podman/podman.sock"}
	}
	for _, sock := range candidates {
		if pingSocket(ctx, sock) {
			if host == "" && sock != "/var/run/docker.sock" {
				// Found podman's socket, which testcontainers does not look
				// for; its reaper image cannot be pulled there either, and
				// the harness removes its containers itself.
				for k, v := range map[string]string{"DOCKER_HOST": "unix://" + sock, "TESTCONTAINERS_RYUK_DISABLED": "true"} {
					if _, set := os.LookupEnv(k); set && k != "DOCKER_HOST" {
						continue
					}
					if err := os.Setenv(k, v); err != nil {
						return fmt.Sprintf("set %s: %v", k, err)
					}
				}
			}
			return ""
		}
	}
	return fmt.Sprintf("no container engine answers on %s (DOCKER_HOST=%q)", strings.Join(candidates, " or "), host)
}

func pingSocket(ctx context.Context, sock string) bool {
	client := &http.Client{
		Timeout: 3 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://engine/_ping", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// pickImage returns the image to run, or a reason why there is none.
func pickImage(ctx context.Context) (string, string) {
	if img := os.Getenv(EnvImage); img != "" {
		// Named explicitly: testcontainers pulls it if it is not local, and a
		// failure then is an error worth seeing rather than a skip.
		return img, ""
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return "", fmt.Sprintf("container engine client: %v", err)
	}
	defer cli.Close()
	for _, img := range []string{DefaultImage, LocalImage} {
		if _, err := cli.ImageInspect(ctx, img); err == nil {
			return img, ""
		}
	}
	// Neither is local: the official one may still be pullable.
	pull, err := cli.ImagePull(ctx, DefaultImage, client.ImagePullOptions{})
	if err == nil {
		err = pull.Wait(ctx)
		if err == nil {
			return DefaultImage, ""
		}
	}
	return "", fmt.Sprintf("neither %s nor %s is available to the container engine (pull: %v)", DefaultImage, LocalImage, err)
}

func runContainer(ctx context.Context, image string, opts Options) (*Cluster, error) {
	env := map[string]string{
		// 1 GB heap overrides testcontainers' 2 GB (ES_JAVA_OPTS comes
		// last); C1-only JIT starts the node about a third faster, which
		// matters more to tests than peak throughput.
		"ES_JAVA_OPTS":           "-Xms1g -Xmx1g -XX:TieredStopAtLevel=1",
		"xpack.security.enabled": strconv.FormatBool(opts.Security),
	}
	custom := []testcontainers.ContainerCustomizer{
		testcontainers.WithLogger(quietLogger{}),
	}
	c := &Cluster{}
	if opts.TLS != nil && !opts.Security {
		return nil, errors.New("estest: Options.TLS needs Options.Security")
	}
	if opts.Security {
		// Plain HTTP keeps tests free of certificates unless they ask for
		// TLS; security still authenticates and authorises every request.
		env["xpack.security.http.ssl.enabled"] = "false"
		env["xpack.security.transport.ssl.enabled"] = "false"
		c.Username, c.Password = "elastic", DefaultPassword
		custom = append(custom, tces.WithPassword(DefaultPassword))
	}
	custom = append(custom, testcontainers.WithEnv(env))
	for name, content := range opts.ConfigFiles {
		custom = append(custom, testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader:            bytes.NewReader(content),
			ContainerFilePath: "/usr/share/elasticsearch/config/" + name,
			FileMode:          0o644,
		}))
	}
	var ctr *tces.ElasticsearchContainer
	var err error
	if opts.TLS != nil {
		c.tlsClient = opts.TLS.Client
		ctr, err = runTLS(ctx, image, opts.TLS, env, custom)
	} else {
		ctr, err = tces.Run(ctx, image, custom...)
	}
	if err != nil && ctr != nil && opts.TLS == nil && strings.Contains(err.Error(), "wait until ready") {
		// The module's readiness wait has a fixed 60 s deadline, which a
		// busy CI machine can miss; the node is usually almost up, so keep
		// waiting on our own (longer) context before giving up.
		err = waitLonger(ctx, ctr, c.Username, c.Password)
	}
	if err != nil {
		if ctr != nil {
			err = fmt.Errorf("%w\nlast container log lines:\n%s", err, logTail(ctr, 20))
			_ = testcontainers.TerminateContainer(ctr)
		}
		return nil, fmt.Errorf("start %s: %w", image, err)
	}
	c.container = ctr
	c.URL = ctr.Settings.Address
	if err := c.connect(ctx); err != nil {
		_ = testcontainers.TerminateContainer(ctr)
		return nil, fmt.Errorf("%s: %w", image, err)
	}
	return c, nil
}

// logTail returns the container's last n log lines, for failure messages.
func logTail(ctr testcontainers.Container, n int) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := ctr.Logs(ctx)
	if err != nil {
		return fmt.Sprintf("(logs unavailable: %v)", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 4<<20))
	if err != nil && len(data) == 0 {
		return fmt.Sprintf("(logs unavailable: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitLonger polls GET / until it answers 200, then records the address
// the module would have set.
func waitLonger(ctx context.Context, ctr *tces.ElasticsearchContainer, user, pass string) error {
	addr, err := ctr.PortEndpoint(ctx, "9200/tcp", "http")
	if err != nil {
		return fmt.Errorf("elasticsearch address: %w", err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr+"/", nil)
		if err != nil {
			return err
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		if res, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				ctr.Settings.Address = addr
				return nil
			}
		}
		if state, err := ctr.State(ctx); err == nil && !state.Running {
			return fmt.Errorf("elasticsearch container exited with code %d", state.ExitCode)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("elasticsearch at %s not ready: %w", addr, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// connect builds the client and reads the version.
func (c *Cluster) connect(ctx context.Context) error {
	ec := elasticsearch.Config{
		Addresses: []string{c.URL},
		Username:  c.Username,
		Password:  c.Password,
	}
	if c.tlsClient != nil {
		ec.Transport = &http.Transport{TLSClientConfig: c.tlsClient}
	}
	es, err := elasticsearch.NewClient(ec)
	if err != nil {
		return fmt.Errorf("client for %s: %w", c.URL, err)
	}
	c.Client = es
	version, err := serverVersion(ctx, es)
	if err != nil {
		return fmt.Errorf("%s: %w", c.URL, err)
	}
	c.Version = version
	c.nsPrefix = randomSuffix()
	return nil
}

// serverVersion reads the version from GET /, or from GET _nodes/_local
// where "/" is not served (TLS clusters of the local image are reached
// directly, not through its esfront; see runTLS).
func serverVersion(ctx context.Context, es *elasticsearch.Client) (string, error) {
	res, err := es.Info(es.Info.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("GET /: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusMethodNotAllowed {
		return localNodeVersion(ctx, es)
	}
	if res.IsError() {
		return "", fmt.Errorf("GET /: %s", res.Status())
	}
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if err := json.NewDecoder(res.Body).Decode(&info); err != nil {
		return "", fmt.Errorf("GET /: decode: %w", err)
	}
	return info.Version.Number, nil
}

func localNodeVersion(ctx context.Context, es *elasticsearch.Client) (string, error) {
	res, err := es.Nodes.Info(es.Nodes.Info.WithNodeID("_local"), es.Nodes.Info.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("GET /_nodes/_local: %w", err)
	}
	defer res.Body.Close()
	if res.IsError() {
		return "", fmt.Errorf("GET /_nodes/_local: %s", res.Status())
	}
	var info struct {
		Nodes map[string]struct {
			Version string `json:"version"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(res.Body).Decode(&info); err != nil {
		return "", fmt.Errorf("GET /_nodes/_local: decode: %w", err)
	}
	for _, n := range info.Nodes {
		return n.Version, nil
	}
	return "", errors.New("GET /_nodes/_local: no node")
}

var nsUnsafe = regexp.MustCompile(`[^a-z0-9]+`)

// Namespace returns a data stream namespace unique to this call: lower
// case, no '-', derived from the test name for readable indices.
func (c *Cluster) Namespace(t testing.TB) string {
	name := strings.Trim(nsUnsafe.ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("%s_%s%d", name, c.nsPrefix, c.nsCounter.Add(1))
}

// Stop stops the container (for outage tests; only on dedicated clusters,
// since other tests share the default one). The data survives; Start
// resumes it, possibly on a different port, which updates URL and Client.
func (c *Cluster) Stop(ctx context.Context) error {
	if c.container == nil {
		return errors.New("cluster was not started by estest")
	}
	timeout := 10 * time.Second
	return c.container.Stop(ctx, &timeout)
}

// Start resumes a stopped container and waits until it answers again.
func (c *Cluster) Start(ctx context.Context) error {
	if c.container == nil {
		return errors.New("cluster was not started by estest")
	}
	if err := c.container.Start(ctx); err != nil {
		return fmt.Errorf("restart elasticsearch container: %w", err)
	}
	scheme, port := "http", "9200/tcp"
	if c.tlsClient != nil {
		scheme, port = "https", tlsPort+"/tcp"
	}
	addr, err := c.container.PortEndpoint(ctx, port, scheme)
	if err != nil {
		return fmt.Errorf("elasticsearch address after restart: %w", err)
	}
	c.URL = addr
	return c.connect(ctx)
}

func randomSuffix() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// quietLogger drops testcontainers' progress lines; failures surface as
// errors from Run.
type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
