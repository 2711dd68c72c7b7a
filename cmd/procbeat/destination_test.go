package main

import (
	"strings"
	"testing"

	"github.com/procbeat/procbeat/output/elasticsearch/esfake"
)

// TestReplayResumesOnlyForTheSameDestination: replay's checkpoints are the
// destination's they were written for. A replay to the same output,
// namespace and codec resumes as before (nothing sent again); one to
// another file, namespace, codec or to Elasticsearch reads the files again
// and ships every document, saying why. Before, a replay to a file and
// then to Elasticsearch with the same path.data shipped nothing, exit 0.
func TestReplayResumesOnlyForTheSameDestination(t *testing.T) {
	const sample = "../../testdata/sample/sample.xml"
	data := "--path.data=" + t.TempDir()
	toFile := func(dir string, extra ...string) (string, int) {
		_, stderr, code := run(t, append([]string{"replay", data, "-E", "output.file.path=" + dir, sample}, extra...)...)
		return stderr, code
	}
	first := t.TempDir()
	if stderr, code := toFile(first); code != 0 || !strings.Contains(stderr, "documents: 14 ") {
		t.Fatalf("first replay: exit %d\n%s", code, stderr)
	}
	// Same destination: resumed, unchanged.
	if stderr, code := toFile(first); code != 0 || !strings.Contains(stderr, "resumed from a checkpoint: 1 file") ||
		!strings.Contains(stderr, "documents: 0 ") || strings.Contains(stderr, "another destination") {
		t.Fatalf("same destination: exit %d\n%s", code, stderr)
	}
	for name, extra := range map[string][]string{
		"another file":      {"-E", "output.file.path=" + t.TempDir()},
		"another namespace": {"-E", "procbeat.namespace=case_b"},
		"another codec":     {"--codec", "car"},
	} {
		// Each changes the destination from the one before it; going
		// back to the first file then reads again too.
		for _, args := range [][]string{extra, nil} {
			stderr, code := toFile(first, args...)
			if code != 0 || !strings.Contains(stderr, "another destination") || strings.Contains(stderr, "resumed") ||
				!strings.Contains(stderr, "records read: 15") {
				t.Fatalf("%s %v: exit %d\n%s", name, args, code, stderr)
			}
		}
	}

	// The sweep's case: to a file, then to Elasticsearch.
	fake := esfake.New(esfake.Faults{})
	defer fake.Close()
	es := []string{"replay", data, "-E", `output.elasticsearch.hosts=["` + fake.URL + `"]`, sample}
	if _, stderr, code := run(t, es...); code != 0 || fake.Len() != 14 || !strings.Contains(stderr, "another destination (output.file ") {
		t.Fatalf("file then Elasticsearch: exit %d, %d documents indexed\n%s", code, fake.Len(), stderr)
	}
	// And the same cluster again resumes.
	if _, stderr, code := run(t, es...); code != 0 || !strings.Contains(stderr, "resumed from a checkpoint: 1 file") || strings.Contains(stderr, "another destination") {
		t.Fatalf("Elasticsearch again: exit %d\n%s", code, stderr)
	}
}
