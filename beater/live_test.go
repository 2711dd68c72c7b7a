package beater

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/module/process/decode/xmlevent"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/module/process/source/wineventlog"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/winevent"
)

// scriptedSource stands in for a live channel: the records of an XML file,
// each positioned by its record id and a made-up bookmark.
type scriptedSource struct {
	path   string
	opened []source.Position
}

func (s *scriptedSource) ID() string { return "wineventlog:Test" }

func (s *scriptedSource) Open(_ context.Context, pos source.Position) (source.Reader, error) {
	s.opened = append(s.opened, pos)
	f, err := os.Open(s.path)
	if err != nil {
		return nil, err
	}
	return &scriptedReader{f: f, d: xmlevent.NewDecoder(f, s.path, decode.Options{}), after: pos.Offset}, nil
}

type scriptedReader struct {
	f     *os.File
	d     *xmlevent.Decoder
	after uint64
}

func (r *scriptedReader) Next(ctx context.Context) bool {
	for ctx.Err() == nil && r.d.Next() {
		if r.d.Record().RecordID > r.after {
			return true
		}
	}
	return false
}
func (r *scriptedReader) Record() *winevent.Record { return r.d.Record() }
func (r *scriptedReader) Position() source.Position {
	id := r.d.Record().RecordID
	return source.Position{Offset: id, Check: 1000 + id, Bookmark: fmt.Sprintf("<BookmarkList><Bookmark Channel='Test' RecordId='%d'/></BookmarkList>", id)}
}
func (r *scriptedReader) Err() error   { return r.d.Err() }
func (r *scriptedReader) Close() error { return r.f.Close() }

// TestLiveSourcePositionsReachTheRegistry: a live source's records are
// published with their positions, the registry keeps the position (record
// id, time, bookmark) of the last acknowledged one, and the next run opens
// the source there.
func TestLiveSourcePositionsReachTheRegistry(t *testing.T) {
	cfg := config.Default()
	cfg.Path.Data = t.TempDir()
	src := &scriptedSource{path: "../testdata/sample/sample.xml"}
	run := func() *Beater {
		b, err := NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, DiscardOutput{}, Options{Resume: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.runner.Run(context.Background(), src); err != nil {
			t.Fatal(err)
		}
		// A live channel's held records go after the merge window; this
		// one ends, so they go now.
		if err := b.runner.FlushHeld(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := run()
	if b.counters.EventsAcked.Load() == 0 {
		t.Fatal("nothing delivered")
	}
	pos, ok := b.reg.Position(src.ID())
	if !ok || pos.Offset == 0 || pos.Check != 1000+pos.Offset || pos.Bookmark != fmt.Sprintf("<BookmarkList><Bookmark Channel='Test' RecordId='%d'/></BookmarkList>", pos.Offset) {
		t.Fatalf("registry position %+v", pos)
	}
	b = run()
	want := source.Position{Offset: pos.Offset, Check: pos.Check, Bookmark: pos.Bookmark}
	if len(src.opened) != 2 || src.opened[1] != want {
		t.Fatalf("opened at %+v, want the stored %+v", src.opened, want)
	}
	if n := b.counters.EventsPublished.Load(); n != 0 {
		t.Fatalf("the second run published %d events again", n)
	}
}

// TestLiveHostMetadataOnlyForThisHost: with a live input, procbeat.host's
// addresses go only on this host's own events, never on another host's
// (a collector's forwarded events); without one they go on every event, as
// for a replay of one host's files.
func TestLiveHostMetadataOnlyForThisHost(t *testing.T) {
	for _, live := range []bool{false, true} {
		cfg := config.Default()
		cfg.Path.Data = t.TempDir()
		cfg.Procbeat.Host.IP = []string{"192.0.2.9"}
		if live {
			cfg.Procbeat.Inputs = []config.Input{{Type: LiveInput, Enabled: true, Channels: []string{"ForwardedEvents"}}}
		}
		var withIP, docs int
		b, err := NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, DiscardOutput{}, Options{Observe: func(d *document.Document) {
			docs++
			if len(d.Host.IP) > 0 {
				withIP++
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.runner.Run(context.Background(), &scriptedSource{path: "../testdata/sample/sample.xml"}); err != nil {
			t.Fatal(err)
		}
		if err := b.runner.FlushHeld(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.Close()
		switch {
		case docs == 0:
			t.Fatal("no documents")
		case live && withIP != 0:
			t.Fatalf("live: %d of %d documents of other hosts got this host's addresses", withIP, docs)
		case !live && withIP != docs:
			t.Fatalf("replay: %d of %d documents got procbeat.host.ip", withIP, docs)
		}
	}
}

// TestLiveInputOffWindows: a wineventlog input on another system is a
// clear error, not an input that silently reads nothing.
func TestLiveInputOffWindows(t *testing.T) {
	cfg := config.Default()
	cfg.Path.Data = t.TempDir()
	cfg.Procbeat.Inputs = []config.Input{{Type: LiveInput, Enabled: true, Channels: []string{"Security"}}}
	b, err := NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, DiscardOutput{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, sysErr := wineventlogAvailable(); sysErr == nil {
		t.Skip("this system has the Windows event log")
	}
	if err := b.Run(context.Background()); !errors.Is(err, wineventlog.ErrNotWindows) {
		t.Fatalf("Run: %v", err)
	}
}

func wineventlogAvailable() (*wineventlog.Source, error) {
	return wineventlog.New(wineventlog.Config{Channel: "Security"}, wineventlog.Options{})
}
