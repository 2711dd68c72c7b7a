package beater

import (
	"bytes"
	"testing"
)

// TestProgressPrintsAboveTheBar: a log line written while the bar shows
// clears the bar's line, ends with its own newline, and the bar is drawn
// again below it (it used to be printed into the bar's line).
func TestProgressPrintsAboveTheBar(t *testing.T) {
	var out bytes.Buffer
	p := &Progress{W: &out, TTY: true}
	p.Above(func() { out.WriteString("before the bar\n") })
	bar := progressState{files: 1, filesTotal: 2, bytes: 50, bytesTotal: 100}.bar(10)
	p.draw(bar, false)
	p.Above(func() { out.WriteString("warn: record 7\n") })
	p.draw(bar, true)
	p.Above(func() { out.WriteString("after\n") })
	want := "before the bar\n" + bar + "\r\033[K" + "warn: record 7\n" + bar + bar + "\n" + "after\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
}
