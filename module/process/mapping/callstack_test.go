package mapping

import (
	"slices"
	"testing"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/tracker"
)

// TestCallStackDefendForms: CallTrace frames come out in Elastic Defend's
// forms (lower-cased paths, "+0x" offsets, "Unbacked" in frames and
// summaries), which Elastic's rules match literally, e.g.
// call_stack_summary : "ntdll.dll|kernelbase.dll|Unbacked".
func TestCallStackDefendForms(t *testing.T) {
	type frame = document.ProcessThreadExtCallStack
	for _, c := range []struct {
		trace    string
		frames   []frame
		summary  string
		unbacked bool
	}{
		{
			// testdata/scenario.xml record 503 (whoami opening lsass).
			trace: `C:\Windows\SYSTEM32\ntdll.dll+9d1f4|C:\Windows\System32\KERNELBASE.dll+2bcae|C:\Windows\System32\KERNELBASE.dll+2a1c0|UNKNOWN(00000000002A1F3C)`,
			frames: []frame{
				{ModulePath: `c:\windows\system32\ntdll.dll`, SymbolInfo: `c:\windows\system32\ntdll.dll+0x9d1f4`},
				{ModulePath: `c:\windows\system32\kernelbase.dll`, SymbolInfo: `c:\windows\system32\kernelbase.dll+0x2bcae`},
				{ModulePath: `c:\windows\system32\kernelbase.dll`, SymbolInfo: `c:\windows\system32\kernelbase.dll+0x2a1c0`},
				{InstructionPointer: "2760508", SymbolInfo: "Unbacked"},
			},
			summary:  "ntdll.dll|kernelbase.dll|Unbacked",
			unbacked: true,
		},
		{
			// Unbacked frames in a row fold as modules do; a user-mode
			// address keeps all its 64 bits; upper-case offsets lower-case.
			trace: `C:\Windows\SYSTEM32\ntdll.dll+9D4C4|UNKNOWN(00007FFB1A2B3C4D)|UNKNOWN(00007FFB1A2B0000)|C:\Program Files\Notepad++\notepad++.exe+1A`,
			frames: []frame{
				{ModulePath: `c:\windows\system32\ntdll.dll`, SymbolInfo: `c:\windows\system32\ntdll.dll+0x9d4c4`},
				{InstructionPointer: "140716452559949", SymbolInfo: "Unbacked"},
				{InstructionPointer: "140716452544512", SymbolInfo: "Unbacked"},
				{ModulePath: `c:\program files\notepad++\notepad++.exe`, SymbolInfo: `c:\program files\notepad++\notepad++.exe+0x1a`},
			},
			summary:  "ntdll.dll|Unbacked|notepad++.exe",
			unbacked: true,
		},
		{
			// No offset: the '+' are the file name's; an address that is
			// not one leaves instruction_pointer out rather than guess.
			trace: `C:\Tools\g++.exe|UNKNOWN(0x12)`,
			frames: []frame{
				{ModulePath: `c:\tools\g++.exe`, SymbolInfo: `c:\tools\g++.exe`},
				{SymbolInfo: "Unbacked"},
			},
			summary:  "g++.exe|Unbacked",
			unbacked: true,
		},
		{
			// A 32-bit module in a WOW64 process keeps Sysmon's mark.
			trace: `C:\Windows\System32\ntdll.dll+712bc(wow64)|C:\Windows\System32\KERNELBASE.dll+EBD8F(WOW64)|UNKNOWN(0000000077A1B2C3)`,
			frames: []frame{
				{ModulePath: `c:\windows\system32\ntdll.dll`, SymbolInfo: `c:\windows\system32\ntdll.dll+0x712bc(wow64)`},
				{ModulePath: `c:\windows\system32\kernelbase.dll`, SymbolInfo: `c:\windows\system32\kernelbase.dll+0xebd8f(wow64)`},
				{InstructionPointer: "2007085763", SymbolInfo: "Unbacked"},
			},
			summary:  "ntdll.dll|kernelbase.dll|Unbacked",
			unbacked: true,
		},
		{
			trace: `C:\Windows\SYSTEM32\ntdll.dll+9c584|C:\Windows\System32\KERNELBASE.dll+305fe`,
			frames: []frame{
				{ModulePath: `c:\windows\system32\ntdll.dll`, SymbolInfo: `c:\windows\system32\ntdll.dll+0x9c584`},
				{ModulePath: `c:\windows\system32\kernelbase.dll`, SymbolInfo: `c:\windows\system32\kernelbase.dll+0x305fe`},
			},
			summary: "ntdll.dll|kernelbase.dll",
		},
	} {
		m := New(tracker.New(tracker.Options{}), Options{})
		var x document.ProcessThreadExt
		m.callStack(c.trace, &x)
		if !slices.Equal(x.CallStack, c.frames) {
			t.Errorf("%s: frames\n%q\nwant\n%q", c.trace, x.CallStack, c.frames)
		}
		if x.CallStackSummary != c.summary {
			t.Errorf("%s: summary %q, want %q", c.trace, x.CallStackSummary, c.summary)
		}
		if x.CallStackContainsUnbacked != document.BoolOf(c.unbacked) {
			t.Errorf("%s: contains unbacked %v, want %v", c.trace, x.CallStackContainsUnbacked, c.unbacked)
		}
	}
}

func BenchmarkCallStack(b *testing.B) {
	// The corpus's most common shape: eight frames, one unbacked.
	const trace = `C:\Windows\SYSTEM32\ntdll.dll+9d1f4|C:\Windows\System32\KERNELBASE.dll+2bcae|C:\Windows\System32\KERNELBASE.dll+2a1c0|UNKNOWN(00007FFB1A2B3C4D)|C:\Windows\System32\RPCRT4.dll+5ab6f|C:\Windows\System32\RPCRT4.dll+4a1c0|C:\Windows\System32\KERNEL32.DLL+17614|C:\Windows\SYSTEM32\ntdll.dll+526f1`
	m := New(tracker.New(tracker.Options{}), Options{})
	var x document.ProcessThreadExt
	b.ReportAllocs()
	for b.Loop() {
		m.callStack(trace, &x)
	}
}
