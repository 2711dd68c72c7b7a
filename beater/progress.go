package beater

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/procbeat/procbeat/monitoring"
)

// Progress reports a long replay to a person: a bar redrawn in place on a
// terminal, a log line every interval otherwise.
type Progress struct {
	W        io.Writer         // the terminal, when TTY
	TTY      bool              // draw a bar; otherwise log
	Log      monitoring.Logger // used without a terminal
	Interval time.Duration     // between log lines (default 10s)

	// mu orders the bar and the lines printed above it (Above); shown is
	// the bar on the terminal's last line, "" when none.
	mu    sync.Mutex
	shown string
}

// Above prints through write (a log line ending in a newline) above the
// bar: the bar's line is cleared, the text written, the bar drawn again
// below it. Without a bar it just writes. Log lines written any other way
// would land in the middle of the bar's line.
func (p *Progress) Above(write func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown == "" {
		write()
		return
	}
	fmt.Fprint(p.W, "\r\033[K")
	write()
	fmt.Fprint(p.W, p.shown)
}

// draw shows bar in place of the previous one; final ends its line.
func (p *Progress) draw(bar string, final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if final {
		fmt.Fprintln(p.W, bar)
		p.shown = ""
		return
	}
	fmt.Fprint(p.W, bar)
	p.shown = bar
}

// IsTerminal reports whether f is a character device (a terminal).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressState is what one report shows.
type progressState struct {
	files, filesTotal int
	bytes, bytesTotal int64
	records, docs     int64
	elapsed           time.Duration
}

func (s progressState) eta() string {
	if s.bytes == 0 || s.bytesTotal <= s.bytes {
		return "-"
	}
	left := time.Duration(float64(s.elapsed) * float64(s.bytesTotal-s.bytes) / float64(s.bytes))
	return left.Round(time.Second).String()
}

func (s progressState) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.docs) / s.elapsed.Seconds()
}

func (s progressState) line() string {
	return fmt.Sprintf("files %d/%d, records %d, documents %d, %.0f docs/s, time left %s",
		s.files, s.filesTotal, s.records, s.docs, s.rate(), s.eta())
}

func (s progressState) bar(width int) string {
	frac := 0.0
	if s.bytesTotal > 0 {
		frac = float64(s.bytes) / float64(s.bytesTotal)
	}
	done := int(frac * float64(width))
	return fmt.Sprintf("\r[%s%s] %3.0f%% %s", strings.Repeat("=", done), strings.Repeat(" ", width-done), 100*frac, s.line())
}

// run reports until ctx ends; state is polled.
func (p *Progress) run(ctx context.Context, state func() progressState) {
	interval := p.Interval
	if p.TTY {
		interval = 200 * time.Millisecond
	} else if interval <= 0 {
		interval = 10 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if p.TTY {
				p.draw(state().bar(30), true)
			}
			return
		case <-t.C:
			if p.TTY {
				p.draw(state().bar(30), false)
			} else if p.Log != nil {
				p.Log.Infof("replay progress: %s", state().line())
			}
		}
	}
}
