package winfmt

import (
	"strings"
	"testing"
	"time"
	"unsafe"
)

// The functions below are ParseHashes and IntegrityFromSysmon as they were
// before they stopped making lower-cased copies (issue 17): the fast ones
// must give the same answers for every input. SplitHashes' reference is
// splitHashesFolded, its general path, which is SplitHashes as it was
// before its one pass for the names as Sysmon writes them.

func parseHashesReference(s string) Hashes {
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
		v = lowerHexReference(v)
		switch strings.ToUpper(alg) {
		case "MD5":
			h.MD5 = v
		case "SHA1":
			h.SHA1 = v
		case "SHA256":
			h.SHA256 = v
		case "IMPHASH":
			h.IMPHASH = v
		}
	}
	return h
}

func lowerHexReference(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func integrityReference(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "system", "protected":
		return IntegritySystem
	case "high":
		return IntegrityHigh
	case "medium", "mediumplus", "medium plus":
		return IntegrityMedium
	case "low", "appcontainer":
		return IntegrityLow
	case "untrusted":
		return IntegrityUntrusted
	}
	return ""
}

var equivSeeds = []string{
	"SHA1=E50D9E3BD91908E13A26B3E23EDEAF577FB3A095,MD5=27304B246C7D5B4E149124D5F93C5B01,IMPHASH=00000000000000000000000000000000",
	"md5=ABC , ImpHash=C1E5,bogus,SHA384=ff,=",
	"SHA1= AB ,MD5=\u00a0CD\u2003,SHA256=0000,IMPHASH=,SHA1=EF=01,MD5", "SHA1=AB,ſha1=CD", "SHA256=AB,sha256=CD,SHA256 =EF", "IMPHASH=ı,ımphash=AB", "sha256=ÄBC,MD5=É", "ſha1=AB", "\u212aimphash=AB", "High", " MEDIUM plus ", "AppContainer", "ſystem", "LOW\u212a", "",
}

func TestFastEqualsReference(t *testing.T) {
	for _, s := range equivSeeds {
		if got, want := ParseHashes(s), parseHashesReference(s); got != want {
			t.Errorf("ParseHashes(%q) = %+v, want %+v", s, got, want)
		}
		if got, want := SplitHashes(s), splitHashesFolded(s); got != want || !sameMemory(got, want) {
			t.Errorf("SplitHashes(%q) = %+v, want %+v", s, got, want)
		}
		if got, want := IntegrityFromSysmon(s), integrityReference(s); got != want {
			t.Errorf("IntegrityFromSysmon(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzFastEqualsReference(f *testing.F) {
	for _, s := range equivSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ParseHashes(s), parseHashesReference(s); got != want {
			t.Errorf("ParseHashes(%q) = %+v, want %+v", s, got, want)
		}
		if got, want := SplitHashes(s), splitHashesFolded(s); got != want || !sameMemory(got, want) {
			t.Errorf("SplitHashes(%q) = %+v, want %+v", s, got, want)
		}
		if got, want := IntegrityFromSysmon(s), integrityReference(s); got != want {
			t.Errorf("IntegrityFromSysmon(%q) = %q, want %q", s, got, want)
		}
	})
}

func FuzzSysmonTimeEqualsTimeParse(f *testing.F) {
	for _, s := range []string{"2019-02-08 05:36:55.453", " 2020-02-29 23:59:59.999 ", "2021-02-29 00:00:00.000", "2019-13-01 00:00:00.000", "2019-04-31 00:00:00.000",
		"2019-01-01 24:00:00.000", "2019-01-01 00:60:00.000", "2019-01-01 00:00:60.000", "0000-01-01 00:00:00.000", "2019-01-01 00:00:00.0000", "2019-01-01T00:00:00.000", "2019-01-01 00:00:00.-01", "1900-02-29 00:00:00.000", "2000-02-29 00:00:00.000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gotErr := ParseSysmonTime(s)
		want, wantErr := time.Parse("2006-01-02 15:04:05.999999999", strings.TrimSpace(s))
		if (gotErr == nil) != (wantErr == nil) || !got.Equal(want) || got.Location() != want.Location() || got != want && gotErr == nil {
			t.Errorf("ParseSysmonTime(%q) = %v, %v; time.Parse gives %v, %v", s, got, gotErr, want, wantErr)
		}
	})
}

// sameMemory reports whether a's values are b's substrings of the same
// input, not equal copies: SplitHashes' values are substrings of s.
func sameMemory(a, b Hashes) bool {
	same := func(x, y string) bool { return len(x) == 0 || unsafe.StringData(x) == unsafe.StringData(y) }
	return same(a.MD5, b.MD5) && same(a.SHA1, b.SHA1) && same(a.SHA256, b.SHA256) && same(a.IMPHASH, b.IMPHASH)
}
