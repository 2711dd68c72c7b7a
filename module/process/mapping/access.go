package mapping

import (
	"bytes"
	"strconv"
	"strings"
	"unsafe"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/internal/lower"
	"github.com/procbeat/procbeat/module/process/winfmt"
)

// processRights are the process-specific access rights of a Windows access
// mask, low bits first, with the standard rights after them.
var processRights = [...]struct {
	bit  uint32
	name string
}{
	{0x0001, "PROCESS_TERMINATE"},
	{0x0002, "PROCESS_CREATE_THREAD"},
	{0x0004, "PROCESS_SET_SESSIONID"},
	{0x0008, "PROCESS_VM_OPERATION"},
	{0x0010, "PROCESS_VM_READ"},
	{0x0020, "PROCESS_VM_WRITE"},
	{0x0040, "PROCESS_DUP_HANDLE"},
	{0x0080, "PROCESS_CREATE_PROCESS"},
	{0x0100, "PROCESS_SET_QUOTA"},
	{0x0200, "PROCESS_SET_INFORMATION"},
	{0x0400, "PROCESS_QUERY_INFORMATION"},
	{0x0800, "PROCESS_SUSPEND_RESUME"},
	{0x1000, "PROCESS_QUERY_LIMITED_INFORMATION"},
	{0x2000, "PROCESS_SET_LIMITED_INFORMATION"},
	{0x00010000, "DELETE"},
	{0x00020000, "READ_CONTROL"},
	{0x00040000, "WRITE_DAC"},
	{0x00080000, "WRITE_OWNER"},
	{0x00100000, "SYNCHRONIZE"},
	{0x01000000, "ACCESS_SYSTEM_SECURITY"},
	{0x02000000, "MAXIMUM_ALLOWED"},
	{0x10000000, "GENERIC_ALL"},
	{0x20000000, "GENERIC_EXECUTE"},
	{0x40000000, "GENERIC_WRITE"},
	{0x80000000, "GENERIC_READ"},
}

// processAllAccess is PROCESS_ALL_ACCESS on Vista and later.
const processAllAccess = 0x001FFFFF

// accessNames decodes a process access mask into right names. Full access is
// named once, as Windows headers name it, rather than as 20 separate rights.
func accessNames(dst []string, mask uint32) []string {
	if mask&processAllAccess == processAllAccess {
		dst = append(dst, "PROCESS_ALL_ACCESS")
		mask &^= processAllAccess
	}
	for _, r := range processRights {
		if mask&r.bit != 0 {
			dst = append(dst, r.name)
			mask &^= r.bit
		}
	}
	if mask != 0 {
		dst = append(dst, "UNKNOWN_ACCESS_BITS")
	}
	return dst
}

// unbacked is how Defend names code outside any mapped image, in a
// frame's symbol_info and in call_stack_summary; Elastic's rules match the
// summary literally ("ntdll.dll|kernelbase.dll|Unbacked").
const unbacked = "Unbacked"

// callStack fills x from a Sysmon CallTrace: frames separated by '|', each
// "C:\path\module.dll+offset" (hex) or "UNKNOWN(address)" for code outside
// any mapped image. Frames are written as Defend writes them, as far as
// CallTrace tells: symbol_info the lower-cased module path and "+0x"
// offset (CallTrace has no symbol names), module_path the lower-cased
// path; an unbacked frame is "Unbacked", its absolute address (decimal,
// as Defend writes addresses) in instruction_pointer: Defend's
// "Unbacked+0x3b5c" is an offset into the unbacked memory, and CallTrace
// gives no base to take it from. The summary folds consecutive frames of
// the same module (or unbacked) into one entry, lower-cased module names
// and "Unbacked", as Defend's summaries read. The frames and the summary
// go to the Mapper's arena: the document alone holds them; or, for a
// trace seen before, the documents share the cache's, read-only.
func (m *Mapper) callStack(s string, x *document.ProcessThreadExt) {
	e := m.traces.entry(s)
	if e.set {
		x.CallStack, x.CallStackSummary, x.CallStackContainsUnbacked = e.val.frames, e.val.summary, e.val.unbacked
		return
	}
	m.buildCallStack(s, x)
	size := len(s) + len(x.CallStackSummary) + len(x.CallStack)*int(unsafe.Sizeof(x.CallStack[0]))
	for _, f := range x.CallStack {
		size += len(f.SymbolInfo) + len(f.InstructionPointer)
	}
	if m.traces.held+size > m.traces.budget {
		return
	}
	// Copies of its own: arena strings would keep their blocks alive, and
	// the record's trace all the record's values.
	frames := make([]document.ProcessThreadExtCallStack, len(x.CallStack))
	for i, f := range x.CallStack {
		sym := strings.Clone(f.SymbolInfo)
		frames[i] = document.ProcessThreadExtCallStack{SymbolInfo: sym, ModulePath: sym[:len(f.ModulePath)], InstructionPointer: strings.Clone(f.InstructionPointer)}
	}
	if len(frames) == 0 {
		frames = nil
	}
	m.traces.put(e, strings.Clone(s), callStackOf{frames, strings.Clone(x.CallStackSummary), x.CallStackContainsUnbacked}, size)
}

// callStackOf is what a CallTrace gives a document (callStack).
type callStackOf struct {
	frames   []document.ProcessThreadExtCallStack
	summary  string
	unbacked document.Bool
}

// buildCallStack is callStack for a trace not cached.
func (m *Mapper) buildCallStack(s string, x *document.ProcessThreadExt) {
	// As many frames as separators and one at most (empty ones are
	// skipped): one pass over the trace instead of a count first.
	stack := m.arena.frames.take(strings.Count(s, "|") + 1)
	sum := m.scratch[:0]
	var last []byte // the previous frame's module, in sum
	anyUnbacked := false
	i := 0
	for frame := range strings.SplitSeq(s, "|") {
		if frame == "" {
			continue
		}
		f := &stack[i]
		i++
		mark := len(sum)
		if mark > 0 {
			sum = append(sum, '|')
		}
		from := len(sum)
		if hasPrefixFoldASCII(frame, "UNKNOWN") {
			// Only ASCII letters upper-case to ASCII ones here, so this is
			// strings.HasPrefix(strings.ToUpper(frame), "UNKNOWN").
			anyUnbacked = true
			f.SymbolInfo = unbacked
			if addr, ok := unknownAddress(frame[len("UNKNOWN"):]); ok {
				var d [20]byte // the digits of the largest uint64
				f.InstructionPointer = m.arena.string(strconv.AppendUint(d[:0], addr, 10))
			}
			sum = append(sum, unbacked...)
		} else {
			f.SymbolInfo, f.ModulePath = m.frame(frame)
			sum = append(sum, baseName(f.ModulePath)...)
		}
		mod := sum[from:]
		if bytes.Equal(mod, last) {
			sum = sum[:mark]
			continue
		}
		last = mod
	}
	m.scratch = sum
	if i == 0 {
		stack = nil
	}
	x.CallStack = stack[:i:i]
	x.CallStackSummary = m.summary(sum)
	x.CallStackContainsUnbacked = document.BoolOf(anyUnbacked)
}

// frameText is a module frame's symbol_info and module_path (frameSymbol).
type frameText struct{ symbol, path string }

// The call stack caches' sets (each of cacheWays entries) and the bytes
// their entries may hold: a collection's traces name a few hundred module
// frames and a few dozen summaries.
const (
	traceSets     = 256
	traceBudget   = 1 << 20
	frameSets     = 256
	frameBudget   = 256 << 10
	summarySets   = 64
	summaryBudget = 64 << 10
)

// frame is frameSymbol's answer for frame, from the cache when it is
// there; else made in the arena, and cached as a copy of its own (a
// cached string from the arena would keep its block alive).
func (m *Mapper) frame(frame string) (symbol, path string) {
	e := m.frames.entry(frame)
	if e.set {
		return e.val.symbol, e.val.path
	}
	symbol, path = m.frameSymbol(frame)
	if m.frames.held+len(frame)+len(symbol) <= m.frames.budget {
		own := strings.Clone(symbol)
		// Copied: the record's would keep all its values alive.
		m.frames.put(e, strings.Clone(frame), frameText{own, own[:len(path)]}, len(frame)+len(own))
	}
	return symbol, path
}

// summary returns sum as a string, from the cache when it is there.
func (m *Mapper) summary(sum []byte) string {
	if len(sum) == 0 {
		// Also what asked is cleared to below.
		return ""
	}
	key := unsafe.String(unsafe.SliceData(sum), len(sum))
	e := m.summaries.entry(key)
	// key's bytes are the scratch buffer's, which the next summary
	// overwrites: the cache must not take it for the key it last asked.
	m.summaries.asked = ""
	if e.set {
		return e.val
	}
	s := string(sum)
	m.summaries.put(e, s, s, len(s))
	return s
}

// frameSymbol returns a module frame's symbol_info, its lower-cased path
// and "+0x" hex offset, and its module_path, the path alone (the start of
// the same arena string). Sysmon marks a 32-bit module's frame in a WOW64
// process "+712bc(wow64)": the mark stays, after the offset, rather than a
// guess at the SysWOW64 path Defend would name. A frame whose text after
// its last '+' is not hex (and a mark) is all path: a '+' in a file name
// (notepad++.exe) is no offset.
func (m *Mapper) frameSymbol(frame string) (symbol, path string) {
	p, off, mark := frame, "", ""
	if i := strings.LastIndexByte(frame, '+'); i >= 0 {
		rest := frame[i+1:]
		n := hexDigits(rest)
		if n > 0 && (n == len(rest) || isMark(rest[n:])) {
			p, off, mark = frame[:i], rest[:n], rest[n:]
		}
	}
	n := len(p)
	if off != "" {
		n += len("+0x") + len(off) + len(mark)
	}
	// ASCII lower-cases to the same length, so this fills what was taken;
	// other text may not, and then Append gives a new array, immutable
	// all the same.
	b := lower.Append(m.arena.bytes.take(n)[:0], p)
	pathLen := len(b)
	if off != "" {
		b = append(b, "+0x"...)
		b = lower.Append(b, off)
		b = lower.Append(b, mark)
	}
	symbol = unsafe.String(unsafe.SliceData(b), len(b))
	return symbol, symbol[:pathLen]
}

// isMark reports whether s is a parenthesised mark, such as "(wow64)".
func isMark(s string) bool {
	return len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')'
}

// hexDigits is the length of the run of hex digits s starts with.
func hexDigits(s string) int {
	for i := 0; i < len(s); i++ {
		if winfmt.DigitValue(s[i]) > 15 {
			return i
		}
	}
	return len(s)
}

// unknownAddress reads the "(address)" after UNKNOWN in a CallTrace frame:
// hex, at most 64 bits, as Sysmon writes it (00007FFB1A2B3C4D).
func unknownAddress(s string) (uint64, bool) {
	if len(s) < 3 || s[0] != '(' || s[len(s)-1] != ')' {
		return 0, false
	}
	h := s[1 : len(s)-1]
	// Leading zeros do not count against the 16 digits of 64 bits.
	for len(h) > 1 && h[0] == '0' {
		h = h[1:]
	}
	if len(h) > 16 || hexDigits(h) != len(h) {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(h); i++ {
		v = v<<4 | uint64(winfmt.DigitValue(h[i]))
	}
	return v, true
}

// hasPrefixFoldASCII reports whether s starts with prefix, an upper-case
// ASCII string, ignoring the case of ASCII letters.
func hasPrefixFoldASCII(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// baseName is the last element of a Windows or POSIX path.
func baseName(p string) string {
	// strings.LastIndexAny(p, `\/`) without its set made per call: the
	// two are ASCII, never part of a longer UTF-8 sequence.
	for i := len(p) - 1; i >= 0; i-- {
		if c := p[i]; c == '\\' || c == '/' {
			return p[i+1:]
		}
	}
	return p
}

// parseAccessMask reads GrantedAccess ("0x1fffff", either case) as
// strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 32)
// does, without the lower-cased copy: ParseUint reads hex digits of either
// case.
func parseAccessMask(s string) (uint64, error) {
	v := s
	if len(v) >= 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X') {
		v = v[2:]
	}
	if mask, err := strconv.ParseUint(v, 16, 32); err == nil {
		return mask, nil
	}
	// The error quotes the lower-cased value, as it always has.
	return strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 32)
}
