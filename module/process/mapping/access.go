package mapping

import (
	"strings"
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

// callTrace holds what a Sysmon CallTrace says: frames separated by '|',
// each "C:\path\module.dll+offset" or "UNKNOWN(address)" for code outside
// any mapped image.
type callTrace struct {
	frames   []string
	summary  string
	unbacked bool
}

// parseCallTrace splits the trace and folds consecutive frames of the same
// module into one summary entry, lower-cased, as Defend's summaries read.
func parseCallTrace(s string) callTrace {
	var ct callTrace
	if s == "" {
		return ct
	}
	var sum strings.Builder
	last := ""
	for frame := range strings.SplitSeq(s, "|") {
		if frame == "" {
			continue
		}
		ct.frames = append(ct.frames, frame)
		mod := frameModule(frame)
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

// frameModule returns the lower-case file name of a frame's module, or
// "unknown" for unbacked code.
func frameModule(frame string) string {
	if strings.HasPrefix(strings.ToUpper(frame), "UNKNOWN") {
		return "unknown"
	}
	if i := strings.LastIndexByte(frame, '+'); i >= 0 {
		frame = frame[:i]
	}
	return strings.ToLower(baseName(frame))
}

// baseName is the last element of a Windows or POSIX path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}
