package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// bigInput writes copies of the sample's events into one XML export in a
// temporary directory, each copy from a host of its own so that every
// record gets its own event.id (the id hashes host, channel, provider,
// event and record id and time). It returns the file and the documents
// procbeat should make of it.
func bigInput(t testing.TB, copies int) (string, kinds) {
	t.Helper()
	sample := samplePath(t)
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	per := countXML(t, sample)
	path := filepath.Join(t.TempDir(), fmt.Sprintf("sample-x%d.xml", copies))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	open := []byte("<Computer>")
	for i := range copies {
		prefix := fmt.Appendf(nil, "<Computer>c%06d-", i)
		for _, l := range lines {
			if _, err := w.Write(bytes.Replace(l, open, prefix, 1)); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteByte('\n'); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, kinds{start: per.start * copies, end: per.end * copies, access: per.access * copies}
}

func (k kinds) total() int { return k.start + k.end + k.access }
