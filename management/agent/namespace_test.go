//go:build agent

package agent_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/management/agent/agenttest"
	"github.com/procbeat/procbeat/output/elasticsearch/esfake"
)

// Two input units of two namespaces in one procbeat: each document goes to
// its unit's data streams and says so in data_stream.namespace, whatever
// procbeat.namespace is.
func TestInputNamespaces(t *testing.T) {
	es := esfake.New(esfake.Faults{})
	t.Cleanup(es.Close)
	type stored struct{ index, id string }
	var mu sync.Mutex
	var docs []stored
	es.OnCreate = func(index, id string) {
		mu.Lock()
		docs = append(docs, stored{index, id})
		mu.Unlock()
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	writeSample(t, dirA, "a.xml", "alpha")
	writeSample(t, dirB, "b.xml", "beta")
	a := agenttest.Start(t, false)
	a.SetUnit(t, outputID, outputUnit, "elasticsearch", esOutput(es.URL))
	inA := nsInput(dirA, "alpha")
	inB := nsInput(dirB, "beta")
	inB["id"] = "procbeat-beta"
	a.SetUnit(t, inputID, inputUnit, "procbeat/xml", inA)
	a.SetUnit(t, "procbeat-beta", inputUnit, "procbeat/xml", inB)
	startNS(t, a, "default")
	waitDocs(t, es, 2*docsPerFS)
	time.Sleep(500 * time.Millisecond)
	exactlyOnce(t, es, 2*docsPerFS)

	mu.Lock()
	defer mu.Unlock()
	perNS := map[string]int{}
	for _, d := range docs {
		body, _ := es.Doc(d.index, d.id)
		var doc struct {
			DataStream struct {
				Type, Dataset, Namespace string
			} `json:"data_stream"`
			Host struct {
				Name string `json:"name"`
			} `json:"host"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s/%s: %v", d.index, d.id, err)
		}
		ns := doc.DataStream.Namespace
		// writeSample puts each unit's events on hosts of its own domain.
		if want := "." + ns + ".example.com"; !strings.HasSuffix(doc.Host.Name, want) {
			t.Errorf("%s/%s: host %s in namespace %q", d.index, d.id, doc.Host.Name, ns)
		}
		if want := "logs-" + doc.DataStream.Dataset + "-" + ns; d.index != want {
			t.Errorf("document %s in %s, its data_stream says %s", d.id, d.index, want)
		}
		perNS[ns]++
	}
	if perNS["alpha"] != docsPerFS || perNS["beta"] != docsPerFS || len(perNS) != 2 {
		t.Errorf("documents per namespace %v, want %d in alpha and in beta", perNS, docsPerFS)
	}
}
