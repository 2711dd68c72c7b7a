package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/output/elasticsearch/esfake"
)

// Documents rejected by Elasticsearch are counted, make the replay exit 4,
// and ship again, with their data stream and _id, when the dead-letter file
// is replayed once the cause is fixed; a second replay of the file with
// --resume sends nothing.
func TestDeadLettersCountedExitAndReshipped(t *testing.T) {
	fake := esfake.New(esfake.Faults{Reject: func(string, string) bool { return true }})
	defer fake.Close()
	data := t.TempDir()
	es := []string{"-E", `output.elasticsearch.hosts=["` + fake.URL + `"]`, "-E", "path.data=" + data,
		"-E", "output.elasticsearch.backoff.init=10ms", "-E", "output.elasticsearch.backoff.max=20ms"}
	_, stderr, code := run(t, append([]string{"replay", "../../testdata/sample/sample.xml"}, es...)...)
	dlq := filepath.Join(data, "dead-letter.ndjson")
	if code != ExitDeadLettered || !strings.Contains(stderr, "dead-lettered: 14") || !strings.Contains(stderr, "procbeat replay "+dlq) {
		t.Fatalf("rejected replay: exit %d, want %d and the count in the summary:\n%s", code, ExitDeadLettered, stderr)
	}
	if fake.Len() != 0 {
		t.Fatalf("%d documents stored", fake.Len())
	}

	// The mapping is fixed: the dead letters go in, as they were.
	fake.SetFaults(esfake.Faults{})
	// A copy under another name is recognised by its content.
	raw, err := os.ReadFile(dlq)
	if err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(t.TempDir(), "rejected.txt")
	if err := os.WriteFile(saved, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = run(t, append([]string{"replay", saved}, es...)...)
	if code != 0 || !strings.Contains(stderr, "dead letters shipped again: 14") || fake.Len() != 14 {
		t.Fatalf("re-ship: exit %d, %d stored:\n%s", code, fake.Len(), stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var rec struct {
			Index, ID string
			Document  json.RawMessage
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if got, ok := fake.Doc(rec.Index, rec.ID); !ok || !bytes.Equal(got, rec.Document) {
			t.Errorf("%s/%s stored %v as %s, want %s", rec.Index, rec.ID, ok, got, rec.Document)
		}
	}
	_, stderr, code = run(t, append([]string{"replay", saved}, es...)...)
	if code != 0 || !strings.Contains(stderr, "already delivered (skipped): 14") || strings.Contains(stderr, "shipped again") {
		t.Fatalf("second re-ship sent again: exit %d:\n%s", code, stderr)
	}
}

// export config prints the configuration with its secrets masked, a host
// URL's password included.
func TestExportConfigMasksSecrets(t *testing.T) {
	out, stderr, code := run(t, "export", "config",
		"-E", "output.elasticsearch.username=elastic", "-E", "output.elasticsearch.password=hunter2-pw",
		"-E", "procbeat.namespace=hunter2_is_no_secret")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(out, "hunter2-pw") || !strings.Contains(out, "password: xxxxx") || !strings.Contains(out, "username: elastic") ||
		!strings.Contains(out, "hunter2_is_no_secret") {
		t.Errorf("masked output:\n%s", out)
	}
	out, stderr, code = run(t, "export", "config", "-E", "output.elasticsearch.api_key=id:hunter2-key")
	if code != 0 || strings.Contains(out, "hunter2") || !strings.Contains(out, "api_key: xxxxx") {
		t.Errorf("api_key: exit %d:\n%s%s", code, out, stderr)
	}
	out, stderr, code = run(t, "export", "config", "-E", `output.elasticsearch.hosts=["http://elastic:hunter2-url@es:9200"]`)
	if strings.Contains(out+stderr, "hunter2") || !strings.Contains(out+stderr, "elastic:xxxxx@es:9200") {
		t.Errorf("credentials in a host URL: exit %d:\n%s%s", code, out, stderr)
	}
}

// A host URL with credentials never shows them, whichever command meets it.
func TestHostCredentialsNotPrinted(t *testing.T) {
	host := `output.elasticsearch.hosts=["http://elastic:hunter2-pw@127.0.0.1:1"]`
	for _, args := range [][]string{
		{"replay", "../../testdata/sample/sample.xml", "-E", host},
		{"setup", "-E", host},
		{"test", "output", "-E", host},
	} {
		out, stderr, code := run(t, args...)
		if code == 0 {
			t.Errorf("%s: accepted", args[0])
		}
		if strings.Contains(out+stderr, "hunter2") {
			t.Errorf("%s shows the password:\n%s%s", args[0], out, stderr)
		}
		if !strings.Contains(out+stderr, "http://xxxxx@127.0.0.1:1") {
			t.Errorf("%s: the host is not named:\n%s%s", args[0], out, stderr)
		}
	}
}
