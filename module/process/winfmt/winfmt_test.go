package winfmt

import (
	"testing"
	"time"
)

func TestParseSysmonTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2019-05-18 20:37:10.356":     time.Date(2019, 5, 18, 20, 37, 10, 356e6, time.UTC),
		"2019-05-18 20:37:10":         time.Date(2019, 5, 18, 20, 37, 10, 0, time.UTC),
		" 2020-10-19 07:30:46.251 ":   time.Date(2020, 10, 19, 7, 30, 46, 251e6, time.UTC),
		"2020-10-19 07:30:46.2510001": time.Date(2020, 10, 19, 7, 30, 46, 251000100, time.UTC),
	} {
		got, err := ParseSysmonTime(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "2019-05-18T20:37:10Z", "yesterday"} {
		if _, err := ParseSysmonTime(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParsePID(t *testing.T) {
	for in, want := range map[string]uint32{"7256": 7256, "0x1a4": 420, "0X1A4": 420, " 4 ": 4, "0xffffffff": 0xffffffff, "0": 0} {
		got, err := ParsePID(in)
		if err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0x", "abc", "-1", "4294967296", "0x100000000"} {
		if _, err := ParsePID(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	for in, want := range map[string]uint32{"0x1c58": 0x1c58, "1c58": 0x1c58, "10": 16} {
		got, err := ParseHexPID(in)
		if err != nil || got != want {
			t.Errorf("hex %q: %d %v", in, got, err)
		}
	}
	if _, err := ParseHexPID("0x"); err == nil {
		t.Error("hex 0x: no error")
	}
}

func TestSplitUser(t *testing.T) {
	for in, want := range map[string][2]string{
		`CORP\bob`:                 {"CORP", "bob"},
		`NT AUTHORITY\SYSTEM`:      {"NT AUTHORITY", "SYSTEM"},
		`bob`:                      {"", "bob"},
		`-`:                        {"", ""},
		``:                         {"", ""},
		`A\b\c`:                    {"A", `b\c`},
		`WORKGROUP\DESKTOP-1$`:     {"WORKGROUP", "DESKTOP-1$"},
		`NT-AUTORITÄT\NETZWERKDIE`: {"NT-AUTORITÄT", "NETZWERKDIE"},
	} {
		d, n := SplitUser(in)
		if d != want[0] || n != want[1] {
			t.Errorf("%q: %q %q", in, d, n)
		}
	}
}

func TestParseHashes(t *testing.T) {
	got := ParseHashes("SHA1=E50D9E3BD91908E13A26B3E23EDEAF577FB3A095,MD5=27304B246C7D5B4E149124D5F93C5B01,SHA256=3337E3875B05E0BFBA69AB926532E3F179E8CFBF162EBB60CE58A0281437A7EF,IMPHASH=00000000000000000000000000000000")
	want := Hashes{MD5: "27304b246c7d5b4e149124d5f93c5b01", SHA1: "e50d9e3bd91908e13a26b3e23edeaf577fb3a095", SHA256: "3337e3875b05e0bfba69ab926532e3f179e8cfbf162ebb60ce58a0281437a7ef"}
	if got != want {
		t.Errorf("got %+v", got)
	}
	if got := ParseHashes("md5=ABC , IMPHASH=C1E5,bogus,SHA384=ff,="); got != (Hashes{MD5: "abc", IMPHASH: "c1e5"}) {
		t.Errorf("got %+v", got)
	}
	if got := ParseHashes(""); got != (Hashes{}) {
		t.Errorf("empty: %+v", got)
	}
}

func TestElevationLevel(t *testing.T) {
	for in, want := range map[string]string{"%%1936": "default", "%%1937": "full", "%%1938": "limited", "2": "full", "%%1939": "", "": ""} {
		if got := ElevationLevel(in); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
}

func TestIntegrity(t *testing.T) {
	for in, want := range map[string]string{
		"S-1-16-0": "untrusted", "S-1-16-4096": "low", "S-1-16-8192": "medium", "S-1-16-8448": "medium",
		"S-1-16-12288": "high", "S-1-16-16384": "system", "S-1-16-20480": "system", "s-1-16-12288": "high",
		"S-1-16-6000": "low", "S-1-5-18": "", "S-1-16-": "", "S-1-16-x": "", "": "",
	} {
		if got := IntegrityFromLabel(in); got != want {
			t.Errorf("label %q: %q want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"System": "system", "High": "high", "Medium": "medium", "Low": "low",
		"Untrusted": "untrusted", "AppContainer": "low", "MediumPlus": "medium", "?": "", "": ""} {
		if got := IntegrityFromSysmon(in); got != want {
			t.Errorf("sysmon %q: %q want %q", in, got, want)
		}
	}
}

func TestParseExitStatus(t *testing.T) {
	for in, want := range map[string]int64{"0x0": 0, "0x1": 1, "0xc0000005": 3221225477, "0xC000013A": 3221225786,
		"0xffffffff": 4294967295, "259": 259, "-1073741819": 3221225477} {
		got, err := ParseExitStatus(in)
		if err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0x", "0x100000000", "x", "-3000000000"} {
		if _, err := ParseExitStatus(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestAbsent(t *testing.T) {
	for in, want := range map[string]bool{"": true, "-": true, " - ": false, "?": true, "<unknown process>": true,
		"? ": false, "C:\\?\\x.exe": false, " ": false,
		"{00000000-0000-0000-0000-000000000000}": true, "00000000-0000-0000-0000-000000000000": true,
		"{00000000-0000-0000-0000-000000000001}": false, "{39e4a257-40a6-5f8d-a005-000000000700}": false,
		"0": false, "S-1-0-0": false} {
		if got := IsAbsent(in); got != want {
			t.Errorf("%q: %v", in, got)
		}
	}
	if Present("-") != "" || Present("x") != "x" {
		t.Error("Present")
	}
}

func TestParseLogonID(t *testing.T) {
	for in, want := range map[string]uint64{"0x3e7": 999, "0x3E7": 999, "999": 999, "0x0000000000C61D9": 0xc61d9} {
		if got, err := ParseLogonID(in); err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	if _, err := ParseLogonID(""); err == nil {
		t.Error("empty: no error")
	}
}

func TestMupShare(t *testing.T) {
	for in, want := range map[string]string{
		`\Device\Mup\VBoxSvr\Users\bouss\MalSeclogon.exe`:                   `VBoxSvr\Users\bouss\MalSeclogon.exe`,
		`\device\mup\srv\share\a.exe`:                                       `srv\share\a.exe`,
		`\Device\Mup\;LanmanRedirector\;Z:00000000000a1b2c\srv\share\a.exe`: `srv\share\a.exe`,
		`\Device\Mup\;WebDavRedirector\srv@SSL\DavWWWRoot\a.exe`:            `srv@SSL\DavWWWRoot\a.exe`,
		`\Device\Mup\srv`: `srv`,
		`\Device\Mup\;LanmanRedirector\;Z:00000000000a1b2c\srv\share\;odd name.exe`: `srv\share\;odd name.exe`,
	} {
		if got, ok := MupShare(in); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{
		``, `\Device\Mup\`, `\Device\Mup`, `\Device\Mup\\srv`, `\Device\Mup\;LanmanRedirector`,
		`\Device\Mup\;LanmanRedirector\`, `\Device\HarddiskVolume3\Windows\a.exe`, `C:\Device\Mup\srv\a.exe`,
		`\\srv\share\a.exe`, `\Device\Mupx\srv\a.exe`,
	} {
		if got, ok := MupShare(in); ok {
			t.Errorf("%q: unexpected %q", in, got)
		}
	}
}
