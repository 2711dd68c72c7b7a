package evtx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
)

// TestReusedSlotsCorpus decodes every chunk of every corpus file (broken
// ones included) with one decoder and one chunkResult, as a worker does,
// and checks each against a fresh decoder's result: decodeRecord stores
// only the fields that change and clears what a record lacks, so nothing
// of an earlier record may show through.
func TestReusedSlotsCorpus(t *testing.T) {
	dir := corpus.Require(t)
	var files []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && filepath.Ext(p) == ".evtx" {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no corpus .evtx files")
	}
	for _, filter := range []func(string, uint16) bool{nil, processFilter} {
		opts := Options{Filter: filter}
		dec := newDecoder("reuse", &opts)
		var res chunkResult
		chunks := 0
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for off := fileHeaderBlock; off < len(b); off += chunkSize {
				c := b[off:min(off+chunkSize, len(b))]
				dec.decodeChunk(chunks, int64(off), c, &res)
				var fresh chunkResult
				newDecoder("reuse", &opts).decodeChunk(chunks, int64(off), c, &fresh)
				if got, want := renderResult(&res), renderResult(&fresh); got != want {
					t.Fatalf("%s chunk at %#x, filter %v: reused slots give\n%s\nfresh:\n%s", f, off, filter != nil, got, want)
				}
				chunks++
			}
		}
		t.Logf("filter %v: %d chunks of %d files", filter != nil, chunks, len(files))
	}
}
