package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
)

// TestReplayEVTXDumpJSON: what `evtx dump --format json` writes of an EVTX
// file replays to the documents replaying the file itself gives: the same
// documents (event.id, the _id in Elasticsearch, included) in the same
// order, and the same counts in the summary. Only what belongs to the run
// differs: event.created, event.ingested and agent.id.
func TestReplayEVTXDumpJSON(t *testing.T) {
	for _, c := range []struct {
		rel  string
		docs int
	}{
		// Sysmon 1, 5 and 10 (the case of the sweep's report).
		{"EVTX-ATTACK-SAMPLES/Credential Access/babyshark_mimikatz_powershell.evtx", 11},
		// Sysmon's 2017 schema; record 508 holds an illegal UTF-16
		// surrogate, which both ways render as U+FFFD.
		{"python-evtx/tests/data/issue_43.evtx", 707},
		// Security 4688 v2 with 13 fields.
		{"EVTX-to-MITRE-Attack/TA0005-Defense Evasion/T1070.001-Clear Windows event logs/ID4688-Clear event log attempt (native).evtx", 28},
		// Repeated <Data> without a Name: no process event either way.
		{"omerbenamram-evtx/samples/MSExchange_Management_wec.evtx", 0},
	} {
		t.Run(filepath.Base(c.rel), func(t *testing.T) {
			evtx := corpus.RequireFile(t, c.rel)
			dump, stderr, code := run(t, "evtx", "dump", evtx, "--format", "json")
			if code != ExitOK {
				t.Fatalf("dump: exit %d: %s", code, stderr)
			}
			dumped := filepath.Join(t.TempDir(), "dump.json")
			if err := os.WriteFile(dumped, []byte(dump), 0o600); err != nil {
				t.Fatal(err)
			}
			want, wantSummary := replayDocuments(t, evtx)
			got, gotSummary := replayDocuments(t, dumped)
			if len(want) != c.docs {
				t.Fatalf("the EVTX gave %d documents, want %d", len(want), c.docs)
			}
			if len(got) != len(want) {
				t.Fatalf("the dump gave %d documents, the EVTX %d\n%s", len(got), len(want), gotSummary)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("document %d\n dump %s\n evtx %s", i+1, got[i], want[i])
				}
			}
			if gotSummary != wantSummary {
				t.Errorf("summary of the dump\n%s\nof the EVTX\n%s", gotSummary, wantSummary)
			}
		})
	}
}

// replayDocuments replays path and returns its documents without the
// fields of the run, keys sorted, and the counts of its summary.
func replayDocuments(t *testing.T, path string) (docs []string, summary string) {
	t.Helper()
	out, stderr, code := run(t, "replay", path)
	if code != ExitOK {
		t.Fatalf("replay %s: exit %d\n%s", path, code, stderr)
	}
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "files: ") || strings.HasPrefix(l, "documents: ") || strings.HasPrefix(l, "errors: ") {
			summary += l + "\n"
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(l))
		dec.UseNumber()
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("replay %s: %v: %s", path, err, l)
		}
		if ev, ok := doc["event"].(map[string]any); ok {
			delete(ev, "created")
			delete(ev, "ingested")
		}
		if ag, ok := doc["agent"].(map[string]any); ok {
			delete(ag, "id")
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(doc); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b.String())
	}
	return docs, summary
}

// TestReplayDumpWithoutProvider: records with a process event's id whose
// provider is under a key procbeat does not read (here a dump whose
// Provider key was renamed) are not counted as records that are not process
// events: each is a decode error, and the replay exits 3.
func TestReplayDumpWithoutProvider(t *testing.T) {
	evtx := corpus.RequireFile(t, "EVTX-ATTACK-SAMPLES/Credential Access/babyshark_mimikatz_powershell.evtx")
	dump, stderr, code := run(t, "evtx", "dump", evtx, "--format", "json")
	if code != ExitOK {
		t.Fatalf("dump: exit %d: %s", code, stderr)
	}
	renamed := filepath.Join(t.TempDir(), "renamed.json")
	if err := os.WriteFile(renamed, []byte(strings.ReplaceAll(dump, `{"Provider":`, `{"Source":`)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := run(t, "replay", renamed)
	// 7 Sysmon 1, 2 Sysmon 5 and 2 Sysmon 10; the other 22 records pass.
	if files := summaryFiles(stderr); code != ExitInputErrors || out != "" || len(files) != 1 || files[0] != renamed+": 11 decode errors" ||
		!strings.Contains(stderr, "records that are not process events: 22\n") {
		t.Errorf("exit %d, %d documents, files with errors %q\n%s", code, strings.Count(out, "\n"), files, stderr)
	}
}
