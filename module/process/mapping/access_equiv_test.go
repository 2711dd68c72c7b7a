package mapping

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/tracker"
)

// The references below are the access mask and call trace parsing written
// plainly, with lower-cased copies (as before issue 17) and fmt: the fast
// ones must give the same answers for every input.

func parseAccessMaskReference(s string) (uint64, error) {
	return strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 32)
}

type callTraceReference struct {
	frames   []document.ProcessThreadExtCallStack
	summary  string
	unbacked bool
}

var (
	offsetRE  = regexp.MustCompile(`(?s)^([0-9A-Fa-f]+)(\(.*\))?$`)
	unknownRE = regexp.MustCompile(`^\(0*([0-9A-Fa-f]{1,16})\)$`)
)

func parseCallTraceReference(s string) callTraceReference {
	var ct callTraceReference
	var mods []string
	last := ""
	for frame := range strings.SplitSeq(s, "|") {
		if frame == "" {
			continue
		}
		var f document.ProcessThreadExtCallStack
		mod := ""
		if strings.HasPrefix(strings.ToUpper(frame), "UNKNOWN") {
			ct.unbacked = true
			f.SymbolInfo, mod = "Unbacked", "Unbacked"
			if m := unknownRE.FindStringSubmatch(frame[len("UNKNOWN"):]); m != nil {
				v, err := strconv.ParseUint(m[1], 16, 64)
				if err != nil {
					panic(err)
				}
				f.InstructionPointer = fmt.Sprint(v)
			}
		} else {
			path := frame
			f.SymbolInfo = strings.ToLower(frame)
			if i := strings.LastIndex(frame, "+"); i >= 0 {
				if m := offsetRE.FindStringSubmatch(frame[i+1:]); m != nil {
					path = frame[:i]
					f.SymbolInfo = strings.ToLower(path) + "+0x" + strings.ToLower(m[1]+m[2])
				}
			}
			f.ModulePath = strings.ToLower(path)
			mod = strings.ToLower(baseName(path))
		}
		ct.frames = append(ct.frames, f)
		// A nameless module first ("+12") folds into the nothing before
		// it, as it always did.
		if mod == last {
			continue
		}
		mods = append(mods, mod)
		last = mod
	}
	ct.summary = strings.Join(mods, "|")
	return ct
}

var accessSeeds = []string{
	"0x1FFFFF", "0X1fffff", "0x0x10", "1410", "0x", "", "0xZZ", "0x\u212a",
	`C:\Windows\SYSTEM32\ntdll.dll+9d4c4|C:\Windows\System32\KERNELBASE.dll+2bcde|UNKNOWN(00007FFB1A2B3C4D)|unknown(1)|C:\Windows\System32\KERNELBASE.dll+1`,
	"|+12||a+1|A+2|Ünknown|x/ÉCOLE.DLL+3|ſ",
	`C:\Program Files\Notepad++\notepad++.exe|C:\x\a.dll+|C:\x\b.dll+0x1F|C:\x\c.dll+1g|UNKNOWN|UNKNOWN()|UNKNOWN(FFFFFFFFFFFFFFFF)|UNKNOWN(00010000000000000000)|UNKNOWN(10000000000000000)|UNKNOWN(2A)x|Unknown(0000000000000000)`,
	`C:\Windows\System32\ntdll.dll+712bc(wow64)|C:\x\a.dll+1()|C:\x\b.dll+(wow64)|C:\x\c.dll+1(|C:\x\d.dll+2)|C:\x\e.dll+3((wow64))`,
}

func checkAccessEquiv(t *testing.T, m *Mapper, s string) {
	got, gotErr := parseAccessMask(s)
	want, wantErr := parseAccessMaskReference(s)
	if got != want || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Errorf("parseAccessMask(%q) = %d, %v; want %d, %v", s, got, gotErr, want, wantErr)
	}
	ref := parseCallTraceReference(s)
	// Twice: built, then from the Mapper's cache of traces.
	for _, how := range []string{"built", "cached"} {
		var x document.ProcessThreadExt
		m.callStack(s, &x)
		if !slices.Equal(x.CallStack, ref.frames) || x.CallStackSummary != ref.summary || x.CallStackContainsUnbacked != document.BoolOf(ref.unbacked) {
			t.Errorf("call trace %q (%s): %q %q %v, want %q %q %v", s, how, x.CallStack, x.CallStackSummary, x.CallStackContainsUnbacked, ref.frames, ref.summary, ref.unbacked)
		}
	}
}

func TestAccessParsingEqualsReference(t *testing.T) {
	m := New(tracker.New(tracker.Options{}), Options{})
	for _, s := range accessSeeds {
		checkAccessEquiv(t, m, s)
	}
}

func FuzzAccessParsingEqualsReference(f *testing.F) {
	for _, s := range accessSeeds {
		f.Add(s)
	}
	m := New(tracker.New(tracker.Options{}), Options{})
	f.Fuzz(func(t *testing.T, s string) { checkAccessEquiv(t, m, s) })
}
