//go:build agent

package agent_test

import (
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/elastic-agent-client/v7/pkg/proto"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/management/agent/agenttest"
	"github.com/procbeat/procbeat/module/process/source/wineventlog/wineventlogtest"
	"github.com/procbeat/procbeat/output/elasticsearch/esfake"
)

const sysmonChannel = "Microsoft-Windows-Sysmon/Operational"

func liveInput(channels ...any) map[string]any {
	return map[string]any{"id": "procbeat-live", "type": "procbeat/wineventlog", "name": "live", "revision": 1,
		"data_stream": map[string]any{"namespace": "default"},
		"streams":     []any{map[string]any{"id": "wineventlog-1", "channels": channels, "start_at": "beginning", "batch_size": 7}}}
}

// A procbeat/wineventlog unit reads its channels (through the fake event
// log): a channel that does not exist degrades the unit with a reason
// naming it, the unit keeps trying, and it is healthy once the channel
// appears, whose events are then shipped exactly once.
func TestLiveChannelMissingThenAppears(t *testing.T) {
	es := esfake.New(esfake.Faults{})
	t.Cleanup(es.Close)
	log := wineventlogtest.New()
	log.AddChannel("Security")
	a := agenttest.Start(t, false)
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", esOutput(es.URL))
	a.SetUnit(t, "procbeat-live", inputUnit, "procbeat/wineventlog", liveInput(sysmonChannel, "Security"))
	startWith(t, a, "default", beater.Options{EventLog: log, LiveRetry: 100 * time.Millisecond})

	msg := a.WaitState(t, "procbeat-live", proto.State_DEGRADED, 20*time.Second)
	if !strings.Contains(msg, `channel "`+sysmonChannel+`" does not exist`) {
		t.Errorf("degraded with %q, want the missing channel named", msg)
	}
	if strings.Contains(msg, `"Security"`) {
		t.Errorf("degraded with %q: the Security channel exists", msg)
	}
	// Sysmon is installed: its channel appears with 40 process starts.
	log.Write(sysmonChannel, 40, wineventlogtest.SysmonStart("ws1.corp.example.com", time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)))
	msg = a.WaitState(t, "procbeat-live", proto.State_HEALTHY, 20*time.Second)
	if !strings.Contains(msg, sysmonChannel) || !strings.Contains(msg, "Security") {
		t.Errorf("healthy with %q, want the channels named", msg)
	}
	waitDocs(t, es, 40)
	log.Write(sysmonChannel, 10, wineventlogtest.SysmonStart("ws1.corp.example.com", time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC)))
	waitDocs(t, es, 50)
	// An event this host logged itself gets this host's metadata, read
	// from the start under Agent as with a live input in procbeat.yml.
	self, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	log.Write(sysmonChannel, 1, wineventlogtest.SysmonStart(self, time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)))
	waitDocs(t, es, 51)
	if !hasLocalHostMetadata(t, es, self) {
		t.Error("the event of this host lacks host.architecture and host.os.kernel")
	}
	if h := a.History("procbeat-live"); !agenttest.InOrder(h, []proto.State{proto.State_DEGRADED, proto.State_HEALTHY}) {
		t.Errorf("Agent saw the unit in states %v", h)
	}

	a.SetState("procbeat-live", proto.State_STOPPED)
	a.WaitState(t, "procbeat-live", proto.State_STOPPED, 20*time.Second)
	time.Sleep(500 * time.Millisecond)
	exactlyOnce(t, es, 51)
	if n := log.Open(); n != 0 {
		t.Errorf("%d event log handles left open after the stop", n)
	}
}

// A wineventlog unit with a bad setting fails naming the key.
func TestLiveUnitConfigurationError(t *testing.T) {
	es := esfake.New(esfake.Faults{})
	t.Cleanup(es.Close)
	a := agenttest.Start(t, false)
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", esOutput(es.URL))
	in := liveInput("Security")
	in["streams"].([]any)[0].(map[string]any)["start_at"] = "yesterday"
	a.SetUnit(t, "procbeat-live", inputUnit, "procbeat/wineventlog", in)
	startWith(t, a, "default", beater.Options{EventLog: wineventlogtest.New()})
	if msg := a.WaitState(t, "procbeat-live", proto.State_FAILED, 20*time.Second); !strings.Contains(msg, "start_at") {
		t.Errorf("failed with %q", msg)
	}
}

// Stopping one input waits for its own events only: a file input stops,
// with every one of its documents stored, while a live input keeps
// publishing into a slow Elasticsearch, whose pipeline is never empty.
func TestStopWaitsForTheInputsOwnEvents(t *testing.T) {
	es := esfake.New(esfake.Faults{Seed: 1, Slow: 1, SlowDelay: 100 * time.Millisecond})
	t.Cleanup(es.Close)
	// Each input writes into a namespace of its own: the index says whose
	// a document is.
	var mu sync.Mutex
	stored := map[string]int{}
	es.OnCreate = func(index, _ string) {
		mu.Lock()
		stored[index[strings.LastIndexByte(index, '-')+1:]]++
		mu.Unlock()
	}
	count := func(ns string) int {
		mu.Lock()
		defer mu.Unlock()
		return stored[ns]
	}
	log := wineventlogtest.New()
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	log.Write(sysmonChannel, 20, wineventlogtest.SysmonStart("ws1.corp.example.com", at))
	dir := t.TempDir()
	writeSample(t, dir, "a.xml", "a")
	a := agenttest.Start(t, false)
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", esOutput(es.URL))
	a.SetUnit(t, inputID, inputUnit, "procbeat/xml", nsInput(dir, "files"))
	live := liveInput(sysmonChannel)
	live["data_stream"] = map[string]any{"namespace": "live"}
	a.SetUnit(t, "procbeat-live", inputUnit, "procbeat/wineventlog", live)
	// The drain timeout is far above what the stop may take.
	startWith(t, a, "default", beater.Options{EventLog: log, DrainTimeout: 30 * time.Second})

	// The live channel gets a record every 5 ms for the whole test.
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			log.Write(sysmonChannel, 1, wineventlogtest.SysmonStart("ws1.corp.example.com", at.Add(time.Duration(i)*time.Second)))
		}
	}()
	defer func() { close(stop); <-writerDone }()
	a.WaitState(t, inputID, proto.State_HEALTHY, 20*time.Second)
	a.WaitState(t, "procbeat-live", proto.State_HEALTHY, 20*time.Second)
	// The unit is healthy once its input runs, which may be before the
	// input has read its file: a stop then ends the reading, rightly, and
	// the rest of the file is read after the next start. Stop once the
	// file's documents are in the pipeline (the first is stored; each is
	// acknowledged only after the slow cluster's delay), which is what
	// this test is about.
	deadline := time.Now().Add(20 * time.Second)
	for count("files") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("none of the file input's documents stored in 20 s")
		}
		time.Sleep(time.Millisecond)
	}

	began := time.Now()
	a.SetState(inputID, proto.State_STOPPED)
	msg := a.WaitState(t, inputID, proto.State_STOPPED, 30*time.Second)
	took := time.Since(began)
	if msg != "stopped" {
		t.Errorf("stopped with %q", msg)
	}
	if took > 10*time.Second {
		t.Errorf("the stop took %s: it waited for the other input's events", took)
	}
	if n := count("files"); n != docsPerFS {
		t.Errorf("%d of the stopped input's %d documents stored when it reported stopped", n, docsPerFS)
	}
	liveAtStop := count("live")
	time.Sleep(time.Second)
	if n := count("live"); n <= liveAtStop {
		t.Errorf("the live input stored %d documents at the stop, %d a second later: it stopped flowing", liveAtStop, n)
	}
	t.Logf("stop took %s; live documents: %d at the stop, %d a second later", took, liveAtStop, count("live"))
}

// hasLocalHostMetadata finds the document of host name and says whether it
// carries the host facts procbeat reads (architecture, kernel).
func hasLocalHostMetadata(t *testing.T, es *esfake.Server, name string) bool {
	t.Helper()
	var found bool
	es.Each(func(_, _ string, body []byte) {
		var doc struct {
			Host struct {
				Name         string
				Architecture string
				OS           struct{ Kernel string }
			}
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		if strings.EqualFold(doc.Host.Name, name) {
			found = doc.Host.Architecture != "" && doc.Host.OS.Kernel != ""
		}
	})
	return found
}
