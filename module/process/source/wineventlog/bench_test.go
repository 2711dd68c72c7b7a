package wineventlog

import (
	"context"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/winevent"
)

// staticAPI serves the same rendered event for ever, allocating nothing,
// so that the benchmark measures the reader alone.
type staticAPI struct {
	event, bookmark []byte
}

func toUTF16(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s + "\x00")) {
		b = append(b, byte(c), byte(c>>8))
	}
	return b
}

func (a *staticAPI) Subscribe(string, string, Start, Handle) (Subscription, error) {
	return staticSub{}, nil
}
func (a *staticAPI) CreateBookmark(string) (Handle, error)      { return 1, nil }
func (a *staticAPI) UpdateBookmark(Handle, Handle) error        { return nil }
func (a *staticAPI) Close(Handle) error                         { return nil }
func (a *staticAPI) QueryRecord(string, uint64) (Handle, error) { return 0, nil }
func (a *staticAPI) RenderXML(_ Handle, bookmark bool, buf []byte) (int, error) {
	src := a.event
	if bookmark {
		src = a.bookmark
	}
	if len(buf) < len(src) {
		return len(src), ErrInsufficientBuffer
	}
	return copy(buf, src), nil
}

// staticSub always has a full batch ready.
type staticSub struct{}

func (staticSub) Close() error { return nil }
func (staticSub) Next(events []Handle) (int, error) {
	for i := range events {
		events[i] = Handle(i + 2)
	}
	return len(events), nil
}
func (staticSub) Wait(time.Duration) (bool, error) { return true, nil }

// BenchmarkReadLive is the live input's cost per record before mapping:
// render (copy), UTF-16 to UTF-8, XML decoding, position; one bookmark
// render per batch of 100.
func BenchmarkReadLive(b *testing.B) {
	rec := fakeRecord{id: 7, provider: winevent.ProviderSysmon, eventID: 1, time: t0, computer: "ws1.corp.example"}
	api := &staticAPI{event: toUTF16(eventXML(sysmon, rec)), bookmark: toUTF16("<BookmarkList><Bookmark Channel='x' RecordId='7'/></BookmarkList>")}
	src, err := New(Config{Channel: sysmon}, Options{API: api})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	r, err := src.Open(ctx, source.Position{Offset: 1, Bookmark: "<BookmarkList/>"})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ReportAllocs()
	for b.Loop() {
		if !r.Next(ctx) {
			b.Fatal(r.Err())
		}
	}
}
