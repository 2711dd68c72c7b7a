package mapping

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/tracker"
)

// The references below are the access mask and call trace parsing as they
// were before they stopped making lower-cased copies (issue 17): the fast
// ones must give the same answers for every input.

func parseAccessMaskReference(s string) (uint64, error) {
	return strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 32)
}

type callTraceReference struct {
	frames   []string
	summary  string
	unbacked bool
}

func parseCallTraceReference(s string) callTraceReference {
	var ct callTraceReference
	var sum strings.Builder
	last := ""
	for frame := range strings.SplitSeq(s, "|") {
		if frame == "" {
			continue
		}
		ct.frames = append(ct.frames, frame)
		mod := frameModuleReference(frame)
		if mod == "unknown" {
			ct.unbacked = true
		}
		if mod == last {
			continue
		}
		if sum.Len() > 0 {
			sum.WriteByte('|')
		}
		sum.WriteString(mod)
		last = mod
	}
	ct.summary = sum.String()
	return ct
}

func frameModuleReference(frame string) string {
	if strings.HasPrefix(strings.ToUpper(frame), "UNKNOWN") {
		return "unknown"
	}
	if i := strings.LastIndexByte(frame, '+'); i >= 0 {
		frame = frame[:i]
	}
	return strings.ToLower(baseName(frame))
}

var accessSeeds = []string{
	"0x1FFFFF", "0X1fffff", "0x0x10", "1410", "0x", "", "0xZZ", "0x\u212a",
	`C:\Windows\SYSTEM32\ntdll.dll+9d4c4|C:\Windows\System32\KERNELBASE.dll+2bcde|UNKNOWN(00007FFB1A2B3C4D)|unknown(1)|C:\Windows\System32\KERNELBASE.dll+1`,
	"|+12||a+1|A+2|Ünknown|x/ÉCOLE.DLL+3|ſ",
}

func checkAccessEquiv(t *testing.T, m *Mapper, s string) {
	got, gotErr := parseAccessMask(s)
	want, wantErr := parseAccessMaskReference(s)
	if got != want || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Errorf("parseAccessMask(%q) = %d, %v; want %d, %v", s, got, gotErr, want, wantErr)
	}
	var x document.ProcessThreadExt
	m.callStack(s, &x)
	ref := parseCallTraceReference(s)
	var frames []string
	for _, f := range x.CallStack {
		frames = append(frames, f.SymbolInfo)
	}
	if !slices.Equal(frames, ref.frames) || x.CallStackSummary != ref.summary || x.CallStackContainsUnbacked != document.BoolOf(ref.unbacked) {
		t.Errorf("call trace %q: %q %q %v, want %q %q %v", s, frames, x.CallStackSummary, x.CallStackContainsUnbacked, ref.frames, ref.summary, ref.unbacked)
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
