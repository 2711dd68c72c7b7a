package merge

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/winevent"
)

// FuzzPassedShortcut feeds one stream of records, from the input, to a
// Merger and to one that holds every record without a twin (holdAll, as
// before the shortcut): both must emit the same documents with the same
// handles in the same order, fail where the other fails (an emit error
// at the same call) and hold the same records after it, to the end
// (Flush). Records have few hosts, pids and images, and times that jump
// back and forth, so that twins, the window, MaxHeld and failures mix.
func FuzzPassedShortcut(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{0x10, 0x91, 0x22, 0xf3, 0x04, 0x85, 0x16, 0x07, 0xe8, 0x19, 0x2a, 0x0b, 0x7c, 0x1d, 0x0e, 0x3f, 0x50, 0x61})
	f.Fuzz(func(t *testing.T, in []byte) {
		var logs [2][]string
		var mergers [2]*Merger[int]
		var calls, failAt [2]int
		for i := range mergers {
			mergers[i] = New[int](Options{MaxHeld: 5, Window: 3 * time.Second, Tolerance: time.Second,
				Now: func() time.Time { return t0 }})
			mergers[i].holdAll = i == 1
			mergers[i].Declare("h0", winevent.ProviderSysmon)
			mergers[i].Declare("h0", winevent.ProviderSecurity)
			failAt[i] = -1
		}
		emitter := func(i int) Emit[int] {
			return func(k mapping.Kind, d *document.Document, acks []int) error {
				calls[i]++
				if calls[i] == failAt[i] {
					logs[i] = append(logs[i], "fail")
					return errors.New("refused")
				}
				logs[i] = append(logs[i], fmt.Sprintf("%d %s %s %d %s %v", k, d.Event.ID, d.Host.Name, d.Process.PID.Value, d.Process.Executable, acks))
				return nil
			}
		}
		at := t0
		for n := 0; len(in) >= 3; n, in = n+1, in[3:] {
			a, b, c := in[0], in[1], in[2]
			var d document.Document
			d.Event.Provider = [3]string{winevent.ProviderSysmon, winevent.ProviderSecurity, "other"}[a%3]
			kind := [3]mapping.Kind{mapping.Start, mapping.End, mapping.Start}[(a/3)%3]
			d.Host.Name = fmt.Sprint("h", (a/9)%3)
			d.Process.PID = document.LongOf(int64(b % 4))
			d.Process.Executable = fmt.Sprintf(`C:\x\%d.exe`, (b/4)%2)
			d.Event.ID = fmt.Sprint("r", n)
			// Time moves by -8 to +7 seconds, in halves.
			at = at.Add(time.Duration(int(c%16)-8) * time.Second / 2)
			for i := range mergers {
				if c >= 0xf0 {
					failAt[i] = calls[i] + 1 + int(b%3) // a coming emit fails
				}
				err := mergers[i].Add(Item[int]{Kind: kind, Doc: &d, Logged: at, Ack: n}, emitter(i))
				logs[i] = append(logs[i], fmt.Sprintf("add %d: %v held %d", n, err, mergers[i].Len()))
			}
		}
		for i := range mergers {
			err := mergers[i].Flush(emitter(i))
			logs[i] = append(logs[i], fmt.Sprintf("flush: %v held %d", err, mergers[i].Len()))
		}
		if fmt.Sprint(logs[0]) != fmt.Sprint(logs[1]) {
			for j := range max(len(logs[0]), len(logs[1])) {
				var x, y string
				if j < len(logs[0]) {
					x = logs[0][j]
				}
				if j < len(logs[1]) {
					y = logs[1][j]
				}
				if x != y {
					t.Fatalf("line %d: with the shortcut %q, holding all %q", j, x, y)
				}
			}
		}
	})
}
