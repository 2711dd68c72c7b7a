// Package argv splits a Windows command line into arguments the way the
// started process itself sees them.
//
// Windows passes a process one string; each program splits it. The rules
// implemented here are those of CommandLineToArgvW for the program name and
// of the Microsoft C runtime since 2008 (msvcr90 and later, the UCRT) for the
// rest, which is what nearly every program sees:
//
// argv[0], the program name:
//   - if the line starts with a double quote, argv[0] is everything up to
//     the next double quote (or the end); backslashes are literal, nothing
//     is escaped, and parsing resumes right after that quote;
//   - otherwise argv[0] runs up to the first space or tab; quotes and
//     backslashes in it are literal;
//   - so a line starting with whitespace has an empty argv[0];
//   - spaces and tabs after argv[0] are skipped.
//
// The other arguments:
//   - space and tab separate arguments outside quotes (nothing else does);
//   - 2n backslashes followed by a quote yield n backslashes, and the quote
//     toggles quoted mode;
//   - 2n+1 backslashes followed by a quote yield n backslashes and a
//     literal quote;
//   - backslashes not followed by a quote are literal, including a
//     trailing one;
//   - inside quotes, "" yields a literal quote and quoted mode goes on (the
//     post-2008 rule; the older runtime and CommandLineToArgvW differ here);
//   - "" outside quotes is an empty argument, and counts;
//   - a quote left open at the end closes there.
//
// Elastic's ingest pipelines apply one portable version of these rules to
// every token, argv[0] included, with the pre-2008 "" rule. We do not follow
// them on purpose: the real rules are what the process sees (a quoted program
// path ending in a backslash, or "a b"c, come out differently), and
// process.args should describe the process, not a parser. The difference
// only shows on unusual lines.
//
// An empty line gives no arguments (CommandLineToArgvW would return the path
// of the calling program instead); a line of only whitespace gives one empty
// argv[0].
package argv

import (
	"strings"
	"unsafe"
)

// Split returns the arguments of cmdline.
func Split(cmdline string) []string {
	return AppendSplit(nil, cmdline)
}

// AppendSplit appends the arguments of cmdline to dst. Arguments that are a
// plain substring of cmdline share its memory; the others share one buffer
// allocated once per call, so a line costs at most two allocations beyond
// growing dst.
func AppendSplit(dst []string, cmdline string) []string {
	return AppendSplitAlloc(dst, cmdline, nil)
}

// AppendSplitAlloc is AppendSplit with the buffer of the arguments that
// differ from their text (quotes, escapes) taken from alloc, when not nil:
// alloc(n) returns n bytes that the caller never writes again (an arena),
// so that splitting allocates nothing.
func AppendSplitAlloc(dst []string, cmdline string, alloc func(n int) []byte) []string {
	s := cmdline
	if len(s) == 0 {
		return dst
	}
	if cap(dst)-len(dst) < 4 {
		dst = growFor(dst, s)
	}
	i := 0
	// argv[0].
	if s[0] == '"' {
		j := len(s)
		if k := strings.IndexByte(s[1:], '"'); k >= 0 {
			j = 1 + k
		}
		dst = append(dst, s[1:j])
		i = j
		if i < len(s) {
			i++ // closing quote
		}
	} else {
		j := 0
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		dst = append(dst, s[:j])
		i = j
	}

	// Processed arguments are written to buf, which is sized so that it
	// never grows: an argument is never longer than its source text.
	var buf []byte
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return dst
		}
		start := i
		plain := true // no quote or escape seen yet: the arg is s[start:i]
		inQuote := false
		bufStart := 0
		for i < len(s) {
			if plain {
				// Still the text itself (so not in quotes): bytes that
				// neither end it nor escape go by at once.
				for i < len(s) && !special(s[i]) {
					i++
				}
				if i >= len(s) {
					break
				}
			}
			c := s[i]
			if !inQuote && (c == ' ' || c == '\t') {
				break
			}
			if c != '\\' && c != '"' {
				if !plain {
					buf = append(buf, c)
				}
				i++
				continue
			}
			// Count backslashes.
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i >= len(s) || s[i] != '"' {
				// Literal backslashes.
				if !plain {
					for k := 0; k < n; k++ {
						buf = append(buf, '\\')
					}
				}
				continue
			}
			// n backslashes followed by a quote: from here on the text
			// differs from the source.
			if plain {
				plain = false
				if buf == nil {
					if alloc != nil {
						buf = alloc(len(s))[:0:len(s)]
					} else {
						buf = make([]byte, 0, len(s))
					}
				}
				bufStart = len(buf)
				buf = append(buf, s[start:i-n]...)
			}
			for k := 0; k < n/2; k++ {
				buf = append(buf, '\\')
			}
			if n%2 == 1 {
				buf = append(buf, '"')
				i++
				continue
			}
			if inQuote && i+1 < len(s) && s[i+1] == '"' {
				buf = append(buf, '"')
				i += 2
				continue
			}
			inQuote = !inQuote
			i++
		}
		if plain {
			dst = append(dst, s[start:i])
		} else {
			dst = append(dst, bytesString(buf[bufStart:]))
		}
	}
}

// special reports whether c separates (space, tab), quotes or escapes:
// one test for most bytes, through a mask of those below 64.
func special(c byte) bool {
	const below64 = 1<<' ' | 1<<'\t' | 1<<'"'
	if c < 64 {
		return below64>>c&1 != 0
	}
	return c == '\\'
}

// bytesString views b as a string. Safe here because buf is never written
// again at indexes already handed out: it is only appended to, and its
// capacity is large enough that it is never reallocated.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// growFor makes room for a guess of the argument count: one per run of
// whitespace, plus one.
func growFor(dst []string, s string) []string {
	n := 1
	for i := 1; i < len(s); i++ {
		if (s[i] == ' ' || s[i] == '\t') && s[i-1] != ' ' && s[i-1] != '\t' {
			n++
		}
	}
	out := make([]string, len(dst), len(dst)+n)
	copy(out, dst)
	return out
}
