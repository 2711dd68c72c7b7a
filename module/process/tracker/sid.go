package tracker

import (
	"hash/maphash"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/procbeat/procbeat/module/process/winfmt"
)

// Sysmon names users (DOMAIN\name) and their logon session but does not
// give their SID; Security events give all three. The SID table remembers
// what Security events taught, per host and logon session and account
// name, so the mapping can fill user.id for Sysmon events of that session.
// A name alone is not enough: a replayed collection holds recordings of
// hosts of the same name (lab images) whose same-named accounts differ, and
// a logon id alone is not either, since logon ids restart with every boot.

type nameKey struct { // domain and name upper case
	host, domain, name string
	logon              uint64
}

// nameHash is the SID table's hash of k (see lru).
func (t *Tracker) nameHash(k nameKey) uint64 {
	h := hashMix(t.hostHash(k.host), maphash.String(t.seed, k.domain))
	return hashMix(hashMix(h, maphash.String(t.seed, k.name)), k.logon)
}

type sidTables struct {
	byName *lru[nameKey, string]
}

func (s *sidTables) init(max int) {
	s.byName = newLRU[nameKey, string](max)
}

// upper folds case the way account names compare on Windows (closely
// enough: full Unicode upper-casing), allocating only when needed.
func upper(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || (c >= 'a' && c <= 'z') {
			return strings.ToUpper(s)
		}
	}
	return s
}

// upperKey is upper(s) for a lookup that keeps nothing: when ASCII s must
// change, the result is written to buf (which it then shares: it must
// not outlive buf's next use nor be stored), so looking up costs no
// allocation.
func upperKey(buf []byte, s string) string {
	change := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.ToUpper(s)
		}
		change = change || ('a' <= c && c <= 'z')
	}
	if !change {
		return s
	}
	b := buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Learn records that on host the account domain\name in the logon session
// logonID (as logged: "0x3e7") is sid. Empty and placeholder values ("-",
// S-1-0-0, the null SID) are ignored, as is the logon id 0x0; all three
// are needed.
func (t *Tracker) Learn(host, domain, name, logonID, sid string) {
	sid = winfmt.TrimSpace(sid)
	// A SID as Windows writes it starts "S-1-" as it is: no upper-cased
	// copy to look at.
	if winfmt.IsAbsent(sid) || sid == "S-1-0-0" || !strings.HasPrefix(sid, "S-1-") && !strings.HasPrefix(strings.ToUpper(sid), "S-1-") {
		return
	}
	l, err := winfmt.ParseLogonID(logonID)
	if err != nil || l == 0 || winfmt.IsAbsent(name) {
		return
	}
	domain, name = winfmt.TrimSpace(domain), winfmt.TrimSpace(name)
	t.mu.Lock()
	defer t.mu.Unlock()
	// Most accounts are learned again and again: only a new one needs a
	// key of its own.
	s, ok := t.learnedSlot(host, domain, name, l)
	if ok {
		*t.sids.byName.val(s) = sid
	} else {
		s = t.sids.byName.put(nameKey{host, upper(domain), upper(name), l}, sid)
	}
	t.learnedName(s)
}

// learnedSlot finds the slot of an account already learned, marking it
// recently used. Its key is upper-cased into t.keyBuf: it is not stored.
// (Buffers on the stack would escape through the table's generic key
// comparison.)
func (t *Tracker) learnedSlot(host, domain, name string, logon uint64) (int32, bool) {
	k := nameKey{host, upperKey(t.keyBuf[0][:], domain), upperKey(t.keyBuf[1][:], name), logon}
	return t.sids.byName.getHashed(k, t.nameHash(k))
}

// SIDFor returns the SID of the account domain\name in the logon session
// logonID on host: a well-known account first, then a well-known logon
// session (0x3e7 SYSTEM, 0x3e5 LOCAL SERVICE, 0x3e4 NETWORK SERVICE), then
// what Learn was told of this account in this session. Any argument may
// be empty; without a logon id only well-known accounts resolve.
func (t *Tracker) SIDFor(host, domain, name, logonID string) (string, bool) {
	if sid, ok := WellKnownSID(winfmt.TrimSpace(domain), winfmt.TrimSpace(name)); ok {
		return sid, true
	}
	return t.SessionSID(host, domain, name, logonID)
}

// SessionSID is SIDFor of an account that is not well-known
// (WellKnownSID(TrimSpace(domain), TrimSpace(name)) says so), for callers
// that know it already.
func (t *Tracker) SessionSID(host, domain, name, logonID string) (string, bool) {
	domain, name = winfmt.TrimSpace(domain), winfmt.TrimSpace(name)
	logon, err := winfmt.ParseLogonID(logonID)
	if err != nil {
		return "", false
	}
	switch logon {
	case 0x3e7:
		return "S-1-5-18", true
	case 0x3e5:
		return "S-1-5-19", true
	case 0x3e4:
		return "S-1-5-20", true
	}
	if winfmt.IsAbsent(name) {
		return "", false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.learnedSlot(host, domain, name, logon); ok {
		return *t.sids.byName.val(s), true
	}
	return "", false
}

// ntAuthority holds the names of the NT AUTHORITY domain, upper case:
// English (which several other display languages keep), French, German and
// Portuguese. Only names we are confident of are listed; a wrong entry
// would never match, a missing one only loses a well-known shortcut.
var ntAuthority = []string{"NT AUTHORITY", "AUTORITE NT", "AUTORITÉ NT", "NT-AUTORITÄT", "AUTORIDADE NT"}

// ntAccounts maps localised account names under NT AUTHORITY, upper case,
// to their SIDs.
var ntAccounts = map[string]string{
	"SYSTEM": "S-1-5-18", "SYSTÈME": "S-1-5-18", "SISTEMA": "S-1-5-18", "СИСТЕМА": "S-1-5-18", "LOCAL SYSTEM": "S-1-5-18",
	"LOCAL SERVICE": "S-1-5-19", "SERVICE LOCAL": "S-1-5-19", "LOKALER DIENST": "S-1-5-19", "SERVIÇO LOCAL": "S-1-5-19", "SERVICIO LOCAL": "S-1-5-19", "LOCALSERVICE": "S-1-5-19",
	"NETWORK SERVICE": "S-1-5-20", "SERVICE RÉSEAU": "S-1-5-20", "NETZWERKDIENST": "S-1-5-20", "SERVIÇO DE REDE": "S-1-5-20", "SERVICIO DE RED": "S-1-5-20", "NETWORKSERVICE": "S-1-5-20",
	"ANONYMOUS LOGON": "S-1-5-7",
}

// WellKnownSID returns the SID of a well-known account: NT AUTHORITY\SYSTEM
// (S-1-5-18), LOCAL SERVICE (S-1-5-19), NETWORK SERVICE (S-1-5-20),
// ANONYMOUS LOGON (S-1-5-7), under the localised domain and account names
// listed above (French AUTORITE NT\Système, German NT-AUTORITÄT\LOKALER
// DIENST, ...; a bare SYSTEM too), and the per-session accounts
// Window Manager\DWM-n (S-1-5-90-0-n) and Font Driver Host\UMFD-n
// (S-1-5-96-0-n). The comparison ignores case.
func WellKnownSID(domain, name string) (string, bool) {
	if name == "" {
		return "", false
	}
	var db, nb [64]byte
	d, n := upperKey(db[:], domain), upperKey(nb[:], name)
	if d == "" || isNTAuthority(d) {
		if sid, ok := ntAccounts[n]; ok && (d != "" || n == "SYSTEM") {
			return sid, true
		}
	}
	switch d {
	case "WINDOW MANAGER":
		if rest, ok := strings.CutPrefix(n, "DWM-"); ok && isDigits(rest) {
			return "S-1-5-90-0-" + rest, true
		}
	case "FONT DRIVER HOST":
		if rest, ok := strings.CutPrefix(n, "UMFD-"); ok && isDigits(rest) {
			return "S-1-5-96-0-" + rest, true
		}
	}
	return "", false
}

// WellKnownAccount returns the account of a service SID, as Windows (and
// Elastic Defend, which reports a token's account) names it in English:
// S-1-5-18 NT AUTHORITY\SYSTEM, S-1-5-19 NT AUTHORITY\LOCAL SERVICE,
// S-1-5-20 NT AUTHORITY\NETWORK SERVICE. Security events name a process
// that runs as one of them by its logon session's strings, which for
// SYSTEM's session are the machine account (HOST$ in the domain or
// workgroup): the SID is what tells the process's account.
func WellKnownAccount(sid string) (domain, name string, ok bool) {
	switch sid {
	case "S-1-5-18":
		return "NT AUTHORITY", "SYSTEM", true
	case "S-1-5-19":
		return "NT AUTHORITY", "LOCAL SERVICE", true
	case "S-1-5-20":
		return "NT AUTHORITY", "NETWORK SERVICE", true
	}
	return "", "", false
}

func isNTAuthority(d string) bool {
	for _, a := range ntAuthority {
		if d == a {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
