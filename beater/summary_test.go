package beater

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSummaryListsFilesWithErrors(t *testing.T) {
	s := newSummary()
	s.recordErrors("b.json", ErrorDecode, 2)
	s.recordErrors("b.json", ErrorMapping, 1)
	s.recordErrors("b.json", ErrorValue, 3)
	s.fileFailed("a.xml", ErrorNoEvents, ErrNoEvents)
	s.fileFailed("c.evtx", ErrorOpen, errors.New("c.evtx: c.evtx: reading file header: EOF"))
	if !s.InputErrors() {
		t.Fatal("InputErrors false with errors")
	}
	var b strings.Builder
	s.Write(&b)
	want := "errors: decode 2, mapping 1, no events 1, open 1, value left out 3\n" +
		"files with errors: 3\n" +
		"  a.xml: " + ErrNoEvents.Error() + "\n" +
		"  b.json: 2 decode errors; 1 mapping error; 3 values left out\n" +
		"  c.evtx: reading file header: EOF\n"
	if !strings.HasSuffix(b.String(), want) {
		t.Errorf("summary:\n%s\nwant it to end with\n%s", b.String(), want)
	}
	if newSummary().InputErrors() {
		t.Error("InputErrors true without errors")
	}
}

func TestSummaryBoundsTheFileList(t *testing.T) {
	s := newSummary()
	for i := range maxListedFiles + 7 {
		s.recordErrors(fmt.Sprintf("f%03d.json", i), ErrorDecode, 1)
	}
	var b strings.Builder
	s.Write(&b)
	out := b.String()
	if n := strings.Count(out, " decode error\n"); n != maxListedFiles || !strings.HasSuffix(out, "  and 7 more (see the log)\n") ||
		!strings.Contains(out, fmt.Sprintf("files with errors: %d\n", maxListedFiles+7)) {
		t.Errorf("%d files listed:\n%s", n, out)
	}
}
