package beater

import (
	"context"
	"testing"

	"github.com/procbeat/procbeat/evtx"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/testing/corpus"
)

// Readers of each kind, as startPlace tells them apart.
type (
	anyReader    struct{ source.Reader }
	exportReader struct{ source.Reader }
	evtxReader   struct{ source.Reader }
)

func (exportReader) Where() (line, index int, from int64) { return 0, 0, 0 }
func (evtxReader) Filtered() int64                        { return 0 }

// The debug log names an EVTX position by its chunk and the offset in it,
// not the number they are packed into, and says "from its start" only
// for the start.
func TestStartPlace(t *testing.T) {
	off, check := evtx.Position{Chunk: 3, Offset: 1104, Check: 99}.Pack()
	for _, c := range []struct {
		rd    source.Reader
		start source.Position
		want  string
	}{
		{evtxReader{}, source.Position{}, "from its start"},
		{evtxReader{}, source.Position{Offset: off, Check: check}, "at chunk 3, offset 1104"},
		// The sweep's "at offset 12884966224 (0: from its start)".
		{evtxReader{}, source.Position{Offset: 12884966224, Check: 1}, "at chunk 3, offset 64336"},
		{exportReader{}, source.Position{Offset: 584521, Check: 7}, "at byte 584521"},
		{anyReader{}, source.Position{Offset: 42, Bookmark: "<BookmarkList/>"}, "after record 42 (its bookmark)"},
		{anyReader{}, source.Position{Offset: 42}, "at offset 42"},
	} {
		if got := startPlace(c.rd, c.start); got != c.want {
			t.Errorf("startPlace(%T, %+v) = %q, want %q", c.rd, c.start, got, c.want)
		}
	}
}

// The readers of EVTX files and of exports are told apart as the fakes
// above are.
func TestStartPlaceRealReaders(t *testing.T) {
	off, check := evtx.Position{Chunk: 1, Offset: 600}.Pack()
	at := source.Position{Offset: off, Check: check}
	for _, c := range []struct{ path, want string }{
		{corpus.RequireFile(t, "omerbenamram-evtx/samples/sysmon.evtx"), "at chunk 1, offset 600"},
		{"../testdata/sample/sample.xml", "at byte 4294967896"},
	} {
		rd, err := source.NewFile(c.path, source.Options{}).Open(context.Background(), source.Position{})
		if err != nil {
			t.Fatal(err)
		}
		if got := startPlace(rd, at); got != c.want {
			t.Errorf("%s: %q, want %q", c.path, got, c.want)
		}
		rd.Close()
	}
}
