package evtx

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
)

func TestDumpCorpus(t *testing.T) {
	dir := corpus.Require(t)
	for _, f := range []string{
		"omerbenamram-evtx/samples/sysmon.evtx",
		"Velocidex-evtx/testdata/Microsoft-Windows-CAPI2_Operational_EventID70.evtx",
		"omerbenamram-evtx/samples/MSExchange_Management_wec.evtx",
		"omerbenamram-evtx/samples/E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx",
		"omerbenamram-evtx/samples/E_Windows_system32_winevt_logs_Microsoft-Windows-Shell-Core%4Operational.evtx",
	} {
		path := filepath.Join(dir, f)
		n, _, _ := readAll(t, path, Options{Workers: 1})
		var xb, jb bytes.Buffer
		if err := Dump(context.Background(), &xb, path, "xml"); err != nil {
			t.Fatal(err)
		}
		if err := Dump(context.Background(), &jb, path, "json"); err != nil {
			t.Fatal(err)
		}
		xl := strings.Split(strings.TrimSpace(xb.String()), "\n")
		jl := strings.Split(strings.TrimSpace(jb.String()), "\n")
		events := 0
		for _, l := range xl {
			if strings.HasPrefix(l, "<!--") {
				continue
			}
			events++
			var v struct {
				XMLName xml.Name
			}
			if err := xml.Unmarshal([]byte(l), &v); err != nil {
				t.Errorf("%s: invalid XML %v: %.300s", f, err, l)
				break
			}
		}
		jsonEvents := 0
		for _, l := range jl {
			if strings.HasPrefix(l, `{"error"`) {
				continue
			}
			jsonEvents++
			var v map[string]any
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Errorf("%s: invalid JSON %v: %.300s", f, err, l)
				break
			}
		}
		if events != n || jsonEvents != n {
			t.Errorf("%s: %d XML events, %d JSON events, want %d", f, events, jsonEvents, n)
		}
		t.Logf("%s first: %.600s", f, xl[0])
	}
}
