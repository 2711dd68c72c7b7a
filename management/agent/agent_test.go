//go:build agent

package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elastic/elastic-agent-client/v7/pkg/client"
	"github.com/elastic/elastic-agent-client/v7/pkg/proto"
	libconfig "github.com/elastic/elastic-agent-libs/config"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/management/agent"
	"github.com/procbeat/procbeat/management/agent/agenttest"
	"github.com/procbeat/procbeat/output/elasticsearch/esfake"
)

const (
	outputID  = "es-default"
	inputID   = "procbeat-evidence"
	docsPerFS = 14 // process documents in testdata/sample/sample.xml
)

var (
	outputUnit = proto.UnitType_OUTPUT
	inputUnit  = proto.UnitType_INPUT
)

// writeSample writes the sample's events as if they came from hosts of
// domain tag: every tag gives documents of their own _ids.
func writeSample(t *testing.T, dir, name, tag string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample", "sample.xml"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(raw), ".corp.example.com", "."+tag+".example.com")
	if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

type procbeat struct {
	w     *agenttest.Watched
	level zap.AtomicLevel
	data  string
	stop  context.CancelFunc
	done  chan error
}

// start runs agent.Run against the fake Agent, with the command line
// settings Agent passes.
func start(t *testing.T, a *agenttest.Agent) *procbeat { return startNS(t, a, "default") }

// startNS is start with procbeat.namespace set to ns.
func startNS(t *testing.T, a *agenttest.Agent, ns string) *procbeat {
	t.Helper()
	return startWith(t, a, ns, beater.Options{})
}

// startWith is startNS with the beater options bo (a drain timeout of 8 s
// unless bo sets one).
func startWith(t *testing.T, a *agenttest.Agent, ns string, bo beater.Options) *procbeat {
	t.Helper()
	if bo.DrainTimeout == 0 {
		bo.DrainTimeout = 8 * time.Second
	}
	home := t.TempDir()
	base, err := libconfig.NewConfigFrom(map[string]any{
		"management.enabled": true, "setup.ilm.enabled": false, "setup.template.enabled": false, "logging.to_stderr": true,
		"path.home": home, "procbeat.scan_frequency": "1s", "http.enabled": false, "logging.metrics.enabled": false,
		"procbeat.namespace": ns,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &procbeat{level: zap.NewAtomicLevelAt(zapcore.InfoLevel), data: filepath.Join(home, "data"), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	p.w = a.Watch()
	go func() {
		p.done <- agent.Run(ctx, p.w, agent.Options{Base: base, Level: p.level, HealthPeriod: 200 * time.Millisecond,
			Beater: bo})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("agent.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("agent.Run did not return")
		}
	})
	return p
}

func esOutput(url string) map[string]any {
	return map[string]any{"type": "elasticsearch", "hosts": []any{url},
		"backoff": map[string]any{"init": "100ms", "max": "500ms"}, "flush_interval": "100ms"}
}

func xmlInput(dir string) map[string]any {
	return map[string]any{"id": inputID, "type": "procbeat/xml", "name": "evidence", "revision": 1,
		"data_stream": map[string]any{"namespace": "default"},
		"streams":     []any{map[string]any{"id": "xml-1", "paths": []any{filepath.Join(dir, "*.xml")}}}}
}

func waitDocs(t *testing.T, es *esfake.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for es.Len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d documents after 30 s, want %d", es.Len(), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exactlyOnce checks that es holds n documents, each sent once.
func exactlyOnce(t *testing.T, es *esfake.Server, n int) {
	t.Helper()
	if st := es.Stats(); es.Len() != n || st.Created != n || st.Conflicts != 0 {
		t.Fatalf("Elasticsearch holds %d documents (created %d, conflicts %d), want %d each sent once", es.Len(), st.Created, st.Conflicts, n)
	}
}

// oneInput serves, as Agent, an output unit to es and an input unit
// reading a directory holding one sample file.
func oneInput(t *testing.T, es *esfake.Server) (dir string, a *agenttest.Agent) {
	t.Helper()
	t.Cleanup(es.Close)
	dir = t.TempDir()
	writeSample(t, dir, "a.xml", "a")
	a = agenttest.Start(t, false)
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", esOutput(es.URL))
	a.SetUnit(t, inputID, inputUnit, "procbeat/xml", xmlInput(dir))
	return dir, a
}

// The initial configuration ships the input's files; a stop request
// drains before the units are reported stopped; the log level follows the
// units.
func TestInitialConfigurationStopAndLogLevel(t *testing.T) {
	// Slow answers keep events in flight when the stop request comes.
	es := esfake.New(esfake.Faults{Seed: 1, Slow: 1, SlowDelay: 2 * time.Second})
	_, a := oneInput(t, es)
	p := start(t, a)

	a.WaitState(t, inputID, proto.State_HEALTHY, 20*time.Second)
	a.WaitState(t, outputID, proto.State_HEALTHY, 20*time.Second)
	waitDocs(t, es, 1)

	// The input stops while Elasticsearch has yet to answer: it reports
	// stopping, and stopped only once every event is acknowledged.
	a.SetState(inputID, proto.State_STOPPED)
	p.w.WaitState(t, inputID, client.UnitStateStopping, 10*time.Second)
	p.w.WaitState(t, inputID, client.UnitStateStopped, 30*time.Second)
	exactlyOnce(t, es, docsPerFS)

	a.SetLogLevel(outputID, proto.UnitLogLevel_DEBUG)
	deadline := time.Now().Add(10 * time.Second)
	for p.level.Level() != zapcore.DebugLevel {
		if time.Now().After(deadline) {
			t.Fatalf("log level %v, want debug", p.level.Level())
		}
		time.Sleep(20 * time.Millisecond)
	}

	a.SetState(outputID, proto.State_STOPPED)
	p.w.WaitState(t, outputID, client.UnitStateStopped, 30*time.Second)
	for _, id := range []string{inputID, outputID} {
		a.WaitState(t, id, proto.State_STOPPED, 10*time.Second)
		if h := a.History(id); !agenttest.InOrder(h, []proto.State{proto.State_HEALTHY, proto.State_STOPPED}) {
			t.Errorf("Agent saw unit %s in states %v", id, h)
		}
	}
	if _, err := os.Stat(filepath.Join(p.data, "registry.json")); err != nil {
		t.Errorf("no checkpoints written: %v", err)
	}
}

// A changed output reconnects: what the old output did not acknowledge
// is delivered by the new one, and nothing is lost or sent twice.
func TestOutputChange(t *testing.T) {
	down := esfake.New(esfake.Faults{Seed: 1, RequestStatus: 1}) // answers every bulk request 503
	defer down.Close()
	up := esfake.New(esfake.Faults{})
	defer up.Close()
	dir := t.TempDir()
	writeSample(t, dir, "a.xml", "a")
	a := agenttest.Start(t, false)
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", esOutput(down.URL))
	a.SetUnit(t, inputID, inputUnit, "procbeat/xml", xmlInput(dir))
	start(t, a)

	msg := a.WaitState(t, outputID, proto.State_DEGRADED, 20*time.Second)
	if !strings.Contains(msg, "unavailable: HTTP 503") {
		t.Errorf("degraded message %q does not give the reason", msg)
	}
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", esOutput(up.URL))
	waitDocs(t, up, docsPerFS)
	a.WaitState(t, outputID, proto.State_HEALTHY, 20*time.Second)
	time.Sleep(time.Second)
	exactlyOnce(t, up, docsPerFS)
	if down.Len() != 0 {
		t.Errorf("the failing output stored %d documents", down.Len())
	}
	if h := a.History(outputID); !agenttest.InOrder(h, []proto.State{proto.State_DEGRADED, proto.State_HEALTHY}) {
		t.Errorf("output states %v", h)
	}
}

// An input removed stops and keeps its checkpoint; added back, it resumes
// from it: files read before are not sent again, files added meanwhile are.
func TestInputRemovedAndAddedBack(t *testing.T) {
	es := esfake.New(esfake.Faults{})
	dir, a := oneInput(t, es)
	start(t, a)
	waitDocs(t, es, docsPerFS)

	a.SetState(inputID, proto.State_STOPPED)
	a.WaitState(t, inputID, proto.State_STOPPED, 20*time.Second)
	a.Remove(inputID)
	writeSample(t, dir, "b.xml", "b")
	// Two scan periods: a running input would have read b.xml.
	time.Sleep(2500 * time.Millisecond)
	if n := es.Len(); n != docsPerFS {
		t.Fatalf("%d documents while the input was removed, want %d", n, docsPerFS)
	}

	a.SetUnit(t, inputID, inputUnit, "procbeat/xml", xmlInput(dir))
	a.WaitState(t, inputID, proto.State_HEALTHY, 20*time.Second)
	waitDocs(t, es, 2*docsPerFS)
	time.Sleep(2500 * time.Millisecond) // a.xml would be sent again by now
	exactlyOnce(t, es, 2*docsPerFS)
	if h := a.History(outputID); h[len(h)-1] != proto.State_HEALTHY {
		t.Errorf("output states %v", h)
	}
}

// Configuration errors fail the unit with the key at fault; a correct
// configuration afterwards makes it healthy.
func TestConfigurationErrorsFailTheUnit(t *testing.T) {
	es := esfake.New(esfake.Faults{})
	defer es.Close()
	dir := t.TempDir()
	a := agenttest.Start(t, false)
	bad := esOutput(es.URL)
	bad["bulk_max_size"] = 0
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", bad)
	badIn := xmlInput(dir)
	badIn["streams"] = []any{map[string]any{"pathz": []any{dir}}}
	a.SetUnit(t, inputID, inputUnit, "procbeat/xml", badIn)
	start(t, a)

	if msg := a.WaitState(t, outputID, proto.State_FAILED, 20*time.Second); !strings.Contains(msg, "output.elasticsearch.bulk_max_size") {
		t.Errorf("output failed with %q", msg)
	}
	if msg := a.WaitState(t, inputID, proto.State_FAILED, 20*time.Second); !strings.Contains(msg, "pathz") {
		t.Errorf("input failed with %q", msg)
	}
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", esOutput(es.URL))
	a.SetUnit(t, inputID, inputUnit, "procbeat/xml", xmlInput(dir))
	a.WaitState(t, outputID, proto.State_HEALTHY, 20*time.Second)
	a.WaitState(t, inputID, proto.State_HEALTHY, 20*time.Second)
}

// Documents Elasticsearch rejects for good are dead-lettered, and the
// output unit says so.
func TestDeadLetteredDegrades(t *testing.T) {
	es := esfake.New(esfake.Faults{Reject: func(index, _ string) bool { return strings.Contains(index, ".api-") }})
	_, a := oneInput(t, es)
	start(t, a)
	msg := a.WaitState(t, outputID, proto.State_DEGRADED, 20*time.Second)
	if !strings.Contains(msg, "dead-letter file") || !strings.Contains(msg, ".ndjson") {
		t.Errorf("degraded with %q", msg)
	}
}

// A file the input cannot read degrades the input unit, naming it, until
// it is gone.
func TestUnreadableFileDegradesTheInput(t *testing.T) {
	es := esfake.New(esfake.Faults{})
	dir, a := oneInput(t, es)
	bad := filepath.Join(dir, "bad.evtx")
	if err := os.WriteFile(bad, []byte("not an EVTX file"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := xmlInput(dir)
	in["type"] = "procbeat/evtx"
	in["streams"] = []any{map[string]any{"paths": []any{filepath.Join(dir, "*.evtx")}}}
	a.SetUnit(t, inputID, inputUnit, "procbeat/evtx", in)
	start(t, a)
	if msg := a.WaitState(t, inputID, proto.State_DEGRADED, 20*time.Second); !strings.Contains(msg, "bad.evtx") {
		t.Errorf("degraded with %q", msg)
	}
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	a.WaitState(t, inputID, proto.State_HEALTHY, 20*time.Second)
}

// An output change of bulk_max_size takes a new pipeline: the old one
// drains what it can, and what the old output never acknowledged is read
// again from the checkpoints and delivered once by the new one.
func TestOutputChangeOfBatching(t *testing.T) {
	down := esfake.New(esfake.Faults{Seed: 1, RequestStatus: 1})
	t.Cleanup(down.Close)
	up := esfake.New(esfake.Faults{})
	_, a := oneInput(t, up)
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", esOutput(down.URL))
	start(t, a)
	a.WaitState(t, outputID, proto.State_DEGRADED, 20*time.Second)
	next := esOutput(up.URL)
	next["bulk_max_size"] = 5
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", next)
	waitDocs(t, up, docsPerFS)
	a.WaitState(t, outputID, proto.State_HEALTHY, 20*time.Second)
	a.WaitState(t, inputID, proto.State_HEALTHY, 20*time.Second)
	time.Sleep(2500 * time.Millisecond)
	exactlyOnce(t, up, docsPerFS)
	if st := up.Stats(); st.MaxItems > 5 {
		t.Errorf("a bulk request of %d items, bulk_max_size is 5", st.MaxItems)
	}
	if down.Len() != 0 {
		t.Errorf("the failing output stored %d documents", down.Len())
	}
}
