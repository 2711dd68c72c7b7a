//go:build windows

package wineventlog

import (
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/internal/utf16le"
)

// These tests exercise the real wevtapi layer on a Windows machine, on the
// Application log (readable without administrator rights, never empty on a
// used system). They cannot run where procbeat is developed; `mage check`
// compiles them.

func systemAPIForTest(t *testing.T) API {
	t.Helper()
	api, err := systemAPI()
	if err != nil {
		t.Fatal(err)
	}
	return api
}

func TestWevtapiReadsRendersAndBookmarks(t *testing.T) {
	api := systemAPIForTest(t)
	sub, err := api.Subscribe("Application", "*", StartAtOldest, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	events := make([]Handle, 8)
	var n int
	for deadline := time.Now().Add(10 * time.Second); n == 0; {
		if n, err = sub.Next(events); err != nil && code(err) != ErrNoMoreItems {
			t.Fatal(err)
		}
		if n == 0 {
			if time.Now().After(deadline) {
				t.Skip("the Application log is empty")
			}
			if _, err := sub.Wait(500 * time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer func() {
		for _, h := range events[:n] {
			api.Close(h)
		}
	}()
	// A 2-byte buffer cannot hold an event: the size needed comes back
	// with ERROR_INSUFFICIENT_BUFFER, and the render then fits.
	need, err := api.RenderXML(events[0], false, make([]byte, 2))
	if code(err) != ErrInsufficientBuffer || need <= 2 {
		t.Fatalf("short render: %d, %v", need, err)
	}
	buf := make([]byte, need)
	used, err := api.RenderXML(events[0], false, buf)
	if err != nil || used != need {
		t.Fatalf("render: %d of %d, %v", used, need, err)
	}
	text := string(utf16le.Append(nil, buf[:used]))
	if !strings.HasPrefix(text, "<Event ") || !strings.HasSuffix(text, "</Event>") {
		t.Fatalf("rendered %q", text)
	}
	bm, err := api.CreateBookmark("")
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close(bm)
	if err := api.UpdateBookmark(bm, events[n-1]); err != nil {
		t.Fatal(err)
	}
	bbuf := make([]byte, 4096)
	used, err = api.RenderXML(bm, true, bbuf)
	if err != nil {
		t.Fatal(err)
	}
	bmXML := string(utf16le.Append(nil, bbuf[:used]))
	if !strings.Contains(bmXML, "RecordId=") {
		t.Fatalf("bookmark %q", bmXML)
	}
	// The rendered bookmark opens a strict subscription after it.
	bm2, err := api.CreateBookmark(bmXML)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close(bm2)
	sub2, err := api.Subscribe("Application", "*", StartAfterBookmark, bm2)
	if err != nil {
		t.Fatal(err)
	}
	sub2.Close()
}

func TestWevtapiErrors(t *testing.T) {
	api := systemAPIForTest(t)
	if _, err := api.Subscribe("Procbeat-No-Such-Channel/Operational", "*", StartFuture, 0); !permanent(err) {
		t.Fatalf("missing channel: %v", err)
	}
	if _, err := api.Subscribe("Application", "*[System[", StartFuture, 0); code(err) != ErrEvtInvalidQuery {
		t.Fatalf("bad query: %v", err)
	}
	if _, err := api.CreateBookmark("<not a bookmark"); err == nil {
		t.Fatal("a malformed bookmark was accepted")
	}
	if h, err := api.QueryRecord("Application", 1<<62); err != nil || h != 0 {
		t.Fatalf("query of a record that does not exist: %v, %v", h, err)
	}
}
