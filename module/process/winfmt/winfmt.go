// Package winfmt parses the value formats Windows process events use:
// Sysmon's UtcTime and Hashes, hex and decimal process ids, DOMAIN\user,
// the Security log's %%19xx elevation codes, mandatory label SIDs, Sysmon's
// IntegrityLevel text, 4689 exit status and the placeholders that mean
// "no value". Every function is pure and allocation-free unless it has to
// build a new string.
package winfmt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/procbeat/procbeat/internal/lower"
)

// SysmonTimeLayout is Sysmon's UtcTime format (always UTC).
const SysmonTimeLayout = "2006-01-02 15:04:05.000"

// ParseSysmonTime parses a Sysmon UtcTime such as "2019-05-18 20:37:10.356".
// Fewer or more fractional digits are accepted too.
func ParseSysmonTime(s string) (time.Time, error) {
	s = TrimSpace(s)
	if t, ok := parseSysmonTimeFast(s); ok {
		return t, nil
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999999", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sysmon UtcTime %q: %w", s, err)
	}
	return t, nil
}

// parseSysmonTimeFast reads the one shape Sysmon writes,
// "2006-01-02 15:04:05.000", by hand: time.Parse costs a fifth of a
// process event's mapping. Anything else, or a value out of range, is
// left to time.Parse (ok false), whose results and errors stay the
// reference.
func parseSysmonTimeFast(s string) (t time.Time, ok bool) {
	if len(s) != len(SysmonTimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' || s[19] != '.' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for k := i; k < i+n; k++ {
			c := s[k]
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec, ms := num(11, 2), num(14, 2), num(17, 2), num(20, 3)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 || ms < 0 {
		return time.Time{}, false
	}
	// time.Date's value (UTC, so no zone to look up), without its
	// normalisation of every field: they are in range.
	secs := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	return time.Unix(secs, int64(ms)*1e6).UTC(), true
}

// daysFromCivil is the number of days from 1970-01-01 to the date
// year-month-day of the proleptic Gregorian calendar (negative before),
// counted in 400-year eras that start on 1 March, so that a leap day
// ends its year.
func daysFromCivil(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := year
	if era < 0 {
		era -= 399 // floor division below
	}
	era /= 400
	yoe := year - era*400                     // [0, 399]
	doy := (153*((month+9)%12)+2)/5 + day - 1 // [0, 365], from 1 March
	doe := yoe*365 + yoe/4 - yoe/100 + doy    // [0, 146096]
	return int64(era)*146097 + int64(doe) - 719468
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

var errEmpty = errors.New("empty value")

// ParsePID parses a process id written in decimal ("7256") or hex
// ("0x1c58", as the Security log writes them; "0X" too).
func ParsePID(s string) (uint32, error) {
	s = TrimSpace(s)
	if s == "" {
		return 0, errEmpty
	}
	var v uint64
	var err error
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		v, err = parseUint32(s[2:], 16)
	} else {
		v, err = parseUint32(s, 10)
	}
	if err != nil {
		return 0, fmt.Errorf("process id %q: %w", s, err)
	}
	return uint32(v), nil
}

// parseUint32 is strconv.ParseUint(s, base, 32) for base 10 or 16. The
// digits of a process id are read by hand when there are too few of them
// to overflow (9 decimal, 8 hex); anything else is strconv's, whose
// results and errors stay the reference.
func parseUint32(s string, base uint64) (uint64, error) {
	maxDigits := 9
	if base == 16 {
		maxDigits = 8
	}
	if len(s) == 0 || len(s) > maxDigits {
		return strconv.ParseUint(s, int(base), 32)
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d := uint64(DigitValue(s[i]))
		if d >= base {
			return strconv.ParseUint(s, int(base), 32)
		}
		v = v*base + d
	}
	return v, nil
}

// DigitValue is the value of the hex digit c (either case), 255 for
// other bytes.
func DigitValue(c byte) uint8 {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}

// ParseHexPID parses a Security-log process id: hex with or without "0x".
func ParseHexPID(s string) (uint32, error) {
	s = TrimSpace(s)
	t := s
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		t = t[2:]
	}
	if t == "" {
		return 0, errEmpty
	}
	v, err := parseUint32(t, 16)
	if err != nil {
		return 0, fmt.Errorf("hex process id %q: %w", s, err)
	}
	return uint32(v), nil
}

// SplitUser splits "DOMAIN\user" at the first backslash. A value without a
// backslash is a bare user name. Absent values ("", "-") give two empty
// strings.
func SplitUser(s string) (domain, name string) {
	if IsAbsent(s) {
		return "", ""
	}
	if i := strings.IndexByte(s, '\\'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return "", s
}

// Hashes are the image hashes Sysmon reports, lower case hex.
type Hashes struct {
	MD5, SHA1, SHA256, IMPHASH string
}

// ParseHashes reads Sysmon's Hashes value ("SHA1=..,MD5=..,SHA256=..,
// IMPHASH=.."), in any order. Values are lowercased; all-zero values (an
// IMPHASH of a non-PE image) and unknown algorithms are dropped.
func ParseHashes(s string) Hashes {
	if isASCII(s) {
		// One lower-cased copy of the whole value (Sysmon writes upper
		// case) rather than one per hash: the hashes are substrings of it.
		return SplitHashes(LowerHash(s))
	}
	// Beyond ASCII case mapping may change lengths: value by value.
	h := SplitHashes(s)
	h.MD5, h.SHA1, h.SHA256, h.IMPHASH = LowerHash(h.MD5), LowerHash(h.SHA1), LowerHash(h.SHA256), LowerHash(h.IMPHASH)
	return h
}

// SplitHashes is ParseHashes without the lower-casing: the values are
// substrings of s, as logged. ParseHashes gives strings.ToLower(v) for the
// values v that HashNeedsLower, v itself for the others.
func SplitHashes(s string) Hashes {
	// Sysmon writes the algorithms' names in upper case, without spaces:
	// those are matched as they are, in one pass over s. Anything else
	// (spaces, other cases, other letters) is left to splitHashesFolded,
	// which gives the same answer for these.
	var h Hashes
	for rest := s; rest != ""; {
		part := rest
		if i := strings.IndexByte(rest, ','); i >= 0 {
			part, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		eq := strings.IndexByte(part, '=')
		if eq < 0 {
			continue
		}
		var dst *string
		switch part[:eq] {
		case "SHA1":
			dst = &h.SHA1
		case "MD5":
			dst = &h.MD5
		case "SHA256":
			dst = &h.SHA256
		case "IMPHASH":
			dst = &h.IMPHASH
		default:
			return splitHashesFolded(s)
		}
		v := TrimSpace(part[eq+1:])
		if v == "" || allZero(v) {
			continue
		}
		*dst = v
	}
	return h
}

// TrimSpace is strings.TrimSpace with the common case (nothing to trim)
// settled inline: a value that starts and ends with an ASCII byte that is
// not white space has nothing to trim.
func TrimSpace(s string) string {
	if n := len(s); n > 0 && notSpace(s[0]) && notSpace(s[n-1]) {
		return s
	}
	return strings.TrimSpace(s)
}

// notSpace reports whether c is an ASCII byte other than white space.
func notSpace(c byte) bool {
	return c < utf8.RuneSelf && c != ' ' && (c < '\t' || c > '\r')
}

// splitHashesFolded is SplitHashes for any spelling of the names: trimmed,
// compared without case (upper-cased first when s is not ASCII, as
// strings.ToUpper folds more than strings.EqualFold).
func splitHashesFolded(s string) Hashes {
	ascii := isASCII(s)
	var h Hashes
	for s != "" {
		var part string
		if i := strings.IndexByte(s, ','); i >= 0 {
			part, s = s[:i], s[i+1:]
		} else {
			part, s = s, ""
		}
		eq := strings.IndexByte(part, '=')
		if eq < 0 {
			continue
		}
		alg, v := strings.TrimSpace(part[:eq]), strings.TrimSpace(part[eq+1:])
		if v == "" || allZero(v) {
			continue
		}
		if !ascii {
			alg = strings.ToUpper(alg)
		}
		switch {
		case strings.EqualFold(alg, "MD5"):
			h.MD5 = v
		case strings.EqualFold(alg, "SHA1"):
			h.SHA1 = v
		case strings.EqualFold(alg, "SHA256"):
			h.SHA256 = v
		case strings.EqualFold(alg, "IMPHASH"):
			h.IMPHASH = v
		}
	}
	return h
}

// HashNeedsLower reports whether ParseHashes lower-cases the value v of
// SplitHashes: when it holds an ASCII upper-case letter (then all of it is
// lower-cased, as strings.ToLower does).
func HashNeedsLower(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

func isASCII(s string) bool { return lower.IsASCII(s) }

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// LowerHash is a value of SplitHashes as ParseHashes gives it: ASCII
// lower-cased, allocating only when something changes.
func LowerHash(s string) string {
	if !HashNeedsLower(s) {
		return s
	}
	// One allocation, lowered a byte at a time where strings.ToLower
	// would go through a strings.Builder.
	b := lower.Append(make([]byte, 0, len(s)), s)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Token elevation levels as Elastic Defend names them
// (process.Ext.token.elevation_level).
const (
	ElevationDefault = "default"
	ElevationFull    = "full"
	ElevationLimited = "limited"
)

// ElevationLevel maps 4688's TokenElevationType: %%1936 (TokenElevationTypeDefault,
// type 1) -> default, %%1937 (full, type 2) -> full, %%1938 (limited,
// type 3) -> limited. Some exporters resolve the message text or give the
// bare type number; "1".."3" are accepted too. Unknown values give "".
func ElevationLevel(s string) string {
	switch TrimSpace(s) {
	case "%%1936", "1":
		return ElevationDefault
	case "%%1937", "2":
		return ElevationFull
	case "%%1938", "3":
		return ElevationLimited
	}
	return ""
}

// Integrity level names as Elastic Defend uses them
// (process.Ext.token.integrity_level_name).
const (
	IntegrityUntrusted = "untrusted"
	IntegrityLow       = "low"
	IntegrityMedium    = "medium"
	IntegrityHigh      = "high"
	IntegritySystem    = "system"
)

// IntegrityFromLabel maps a mandatory label SID (4688 v2 MandatoryLabel) to
// an integrity level name. Defend's value set has five names, so the two
// levels in between fold into their neighbours: medium plus (S-1-16-8448,
// used by UIAccess processes) -> medium, because it sits below high and
// grants no admin rights; protected process (S-1-16-20480) and anything
// above system -> system, the highest name there is. Values between the
// defined levels round down to the level they satisfy. Unparsable values
// give "".
func IntegrityFromLabel(sid string) string {
	sid = TrimSpace(sid)
	const prefix = "S-1-16-"
	if len(sid) <= len(prefix) || !strings.EqualFold(sid[:len(prefix)], prefix) {
		return ""
	}
	rid, err := strconv.ParseUint(sid[len(prefix):], 10, 32)
	if err != nil {
		return ""
	}
	switch {
	case rid >= 0x4000: // 16384 system, 20480 protected process
		return IntegritySystem
	case rid >= 0x3000: // 12288 high
		return IntegrityHigh
	case rid >= 0x2000: // 8192 medium, 8448 medium plus
		return IntegrityMedium
	case rid >= 0x1000: // 4096 low
		return IntegrityLow
	default: // 0 untrusted
		return IntegrityUntrusted
	}
}

// IntegrityFromSysmon maps Sysmon's IntegrityLevel text ("System", "High",
// "Medium", "Low", "Untrusted", "AppContainer", "MediumPlus" in some
// versions) to a Defend name. AppContainer processes run at low integrity.
// Unknown text gives "".
func IntegrityFromSysmon(s string) string {
	// Sysmon's own spellings first, as they are: one comparison.
	switch s {
	case "Medium":
		return IntegrityMedium
	case "High":
		return IntegrityHigh
	case "System":
		return IntegritySystem
	case "Low", "AppContainer":
		return IntegrityLow
	}
	s = TrimSpace(s)
	if isASCII(s) {
		// Sysmon's words, without a lower-cased copy.
		for _, w := range sysmonIntegrity {
			if len(s) == len(w.text) && strings.EqualFold(s, w.text) {
				return w.level
			}
		}
		return ""
	}
	l := strings.ToLower(s)
	for _, w := range sysmonIntegrity {
		if l == w.text {
			return w.level
		}
	}
	return ""
}

// sysmonIntegrity is IntegrityFromSysmon's table, lower case.
var sysmonIntegrity = [...]struct{ text, level string }{
	{"system", IntegritySystem},
	{"protected", IntegritySystem},
	{"high", IntegrityHigh},
	{"medium", IntegrityMedium},
	{"mediumplus", IntegrityMedium},
	{"medium plus", IntegrityMedium},
	{"low", IntegrityLow},
	{"appcontainer", IntegrityLow},
	{"untrusted", IntegrityUntrusted},
}

// ParseExitStatus reads 4689's Status ("0x0", "0xc0000005") as the process
// exit code. Windows exit codes are DWORDs (GetExitCodeProcess), so the
// value is read as an unsigned 32-bit number and returned unchanged in an
// int64: 0xC0000005 is 3221225477, not -1073741819. Tools disagree here
// (cmd's %ERRORLEVEL% prints the signed form); the unsigned form keeps the
// NTSTATUS readable in hex and never goes negative, and int64 holds every
// DWORD. Decimal input is accepted, including a negative int32 from
// exporters that print it signed, which is mapped back to its DWORD.
func ParseExitStatus(s string) (int64, error) {
	s = TrimSpace(s)
	if s == "" {
		return 0, errEmpty
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		v, err := strconv.ParseUint(s[2:], 16, 32)
		if err != nil {
			return 0, fmt.Errorf("exit status %q: %w", s, err)
		}
		return int64(v), nil
	}
	if strings.HasPrefix(s, "-") {
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("exit status %q: %w", s, err)
		}
		return int64(uint32(int32(v))), nil
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("exit status %q: %w", s, err)
	}
	return int64(v), nil
}

// Placeholders Sysmon writes where it has no value.
const (
	// Unresolved is Sysmon's ParentImage and ParentCommandLine for a parent
	// it could not resolve (its process cache did not hold it).
	Unresolved = "?"
	// UnknownProcess is Sysmon's image of a process it does not know, as
	// on some process end and access events.
	UnknownProcess = "<unknown process>"
)

// IsAbsent reports whether a value means "no value": empty, "-", an
// all-zero GUID with or without braces, or one of Sysmon's placeholders
// (Unresolved, UnknownProcess). The comparison is on the value exactly as
// logged: " - " or "? " are values, because values are kept verbatim and a
// placeholder is a whole value, never padded. Callers that parse ids
// (SIDs, GUIDs, numbers) trim before asking.
func IsAbsent(s string) bool {
	switch s {
	case "", "-", Unresolved, UnknownProcess:
		return true
	}
	return IsZeroGUID(s)
}

// IsZeroGUID reports whether s is the all-zero GUID,
// {00000000-0000-0000-0000-000000000000}, braces optional.
func IsZeroGUID(s string) bool {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if s[i] != '0' {
				return false
			}
		}
	}
	return true
}

// Present returns s, or "" when IsAbsent(s).
func Present(s string) string {
	if IsAbsent(s) {
		return ""
	}
	return s
}

// ParseLogonID reads a logon id (LUID) as Windows writes it, "0x3e7" or
// decimal, to a number, so that differently cased or padded spellings of
// one session compare equal.
func ParseLogonID(s string) (uint64, error) {
	s = TrimSpace(s)
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return strconv.ParseUint(s[2:], 16, 64)
	}
	if s == "" {
		return 0, errEmpty
	}
	return strconv.ParseUint(s, 10, 64)
}

// mupPrefix is the NT object path of the Multiple UNC Provider, under
// which Windows names files on network shares: \Device\Mup\server\share\...
// is \\server\share\... .
const mupPrefix = `\Device\Mup\`

// MupShare reports whether p, an image path, is an NT device path of a
// file on a network share (\Device\Mup\...: Security events name such
// images so, where Sysmon and Defend write the UNC path), and returns
// then what follows the device, server\share\..., so that the UNC path
// is `\\` + share. The redirector components some paths carry first
// (\Device\Mup\;LanmanRedirector\;Z:00000000000a1b2c\server\share\...),
// which are no part of the UNC path, are skipped. The device name
// compares without regard to case, as Windows's object names do.
func MupShare(p string) (share string, ok bool) {
	if len(p) <= len(mupPrefix) || !strings.EqualFold(p[:len(mupPrefix)], mupPrefix) {
		return "", false
	}
	share = p[len(mupPrefix):]
	for len(share) > 0 && share[0] == ';' {
		i := strings.IndexByte(share, '\\')
		if i < 0 {
			return "", false
		}
		share = share[i+1:]
	}
	if share == "" || share[0] == '\\' {
		return "", false
	}
	return share, true
}
