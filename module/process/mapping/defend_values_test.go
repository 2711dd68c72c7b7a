package mapping_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/module/process/argv"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/winevent"
)

// Values as Elastic Defend writes them, where a Security event says the
// same thing otherwise (a user-acceptance sweep found each of these).

func security(id uint16, recordID uint64, at time.Time, kv ...string) *winevent.Record {
	r := sysmon(id, recordID, at, kv...)
	r.Provider, r.Channel = winevent.ProviderSecurity, "Security"
	return r
}

// A process 4688 and 4689 name by the SYSTEM logon session's strings (the
// machine account) runs as NT AUTHORITY\SYSTEM, as Sysmon names it; so
// do LOCAL SERVICE and NETWORK SERVICE. Localised names of the account
// are the event's to keep; other SIDs keep the event's names.
func TestServiceAccountsNamedAfterTheirSID(t *testing.T) {
	m := newMapper(tracker.New(tracker.Options{}))
	start := func(rec uint64, pid string, kv ...string) (domain, name, id, message string) {
		d := mapOne(t, m, security(4688, rec, at0, append([]string{"NewProcessId", pid, "ProcessId", "0x4",
			"NewProcessName", `C:\Windows\PSEXESVC.exe`}, kv...)...))
		return d.User.Domain, d.User.Name, d.User.ID, d.Message
	}
	subject := func(domain, name, sid, logon string) []string {
		return []string{"SubjectUserSid", sid, "SubjectUserName", name, "SubjectDomainName", domain, "SubjectLogonId", logon}
	}
	for i, c := range []struct {
		kv                   []string
		domain, name, sid    string
		pid, messageUserPart string
	}{
		{subject("WORKGROUP", "WORKSTATION5$", "S-1-5-18", "0x3e7"), "NT AUTHORITY", "SYSTEM", "S-1-5-18", "0x100", `user NT AUTHORITY\SYSTEM`},
		// Version 2 names the new process's account as the target.
		{append(subject("CORP", "SRV01$", "S-1-5-18", "0x3e7"), "TargetUserSid", "S-1-5-20", "TargetUserName", "SRV01$",
			"TargetDomainName", "CORP", "TargetLogonId", "0x3e4"), "NT AUTHORITY", "NETWORK SERVICE", "S-1-5-20", "0x101", ""},
		{append(subject("CORP", "SRV01$", "S-1-5-18", "0x3e7"), "TargetUserSid", "S-1-5-19", "TargetUserName", "-",
			"TargetDomainName", "-", "TargetLogonId", "0x3e5"), "NT AUTHORITY", "LOCAL SERVICE", "S-1-5-19", "0x102", ""},
		{subject("AUTORITE NT", "Système", "S-1-5-18", "0x3e7"), "AUTORITE NT", "Système", "S-1-5-18", "0x103", ""},
		{subject("nt authority", "system", "S-1-5-18", "0x3e7"), "nt authority", "system", "S-1-5-18", "0x104", ""},
		{subject("CORP", "bob", "S-1-5-21-1-2-3-1104", "0x5a1c2"), "CORP", "bob", "S-1-5-21-1-2-3-1104", "0x105", `user CORP\bob`},
	} {
		domain, name, id, message := start(uint64(i+1), c.pid, c.kv...)
		if domain != c.domain || name != c.name || id != c.sid {
			t.Errorf("%v: user %s\\%s %s, want %s\\%s %s", c.kv, domain, name, id, c.domain, c.name, c.sid)
		}
		if c.messageUserPart != "" && !strings.Contains(message, c.messageUserPart) {
			t.Errorf("%v: message %q", c.kv, message)
		}
	}
	// The end of a tracked start has its user; the end of a process not
	// seen starting is named after its SID too.
	d := mapOne(t, m, security(4689, 10, at0.Add(time.Second), "ProcessId", "0x100", "ProcessName", `C:\Windows\PSEXESVC.exe`,
		"SubjectUserSid", "S-1-5-18", "SubjectUserName", "WORKSTATION5$", "SubjectDomainName", "WORKGROUP", "SubjectLogonId", "0x3e7"))
	if d.User.Domain != "NT AUTHORITY" || d.User.Name != "SYSTEM" {
		t.Errorf("tracked end: user %s\\%s", d.User.Domain, d.User.Name)
	}
	d = mapOne(t, m, security(4689, 11, at0.Add(time.Second), "ProcessId", "0x900", "ProcessName", `C:\Windows\System32\svchost.exe`,
		"SubjectUserSid", "S-1-5-19", "SubjectUserName", "WORKSTATION5$", "SubjectDomainName", "WORKGROUP", "SubjectLogonId", "0x3e5"))
	if d.User.Domain != "NT AUTHORITY" || d.User.Name != "LOCAL SERVICE" || d.User.ID != "S-1-5-19" {
		t.Errorf("untracked end: user %s\\%s %s", d.User.Domain, d.User.Name, d.User.ID)
	}
}

// Security events name a network share's image by its device path,
// \Device\Mup\server\share\...: the documents name it as Sysmon does,
// \\server\share\..., and the tracker then links a Security child to its
// Sysmon-started parent by that image. A volume's device path stays.
func TestNetworkShareImagesAsUNCPaths(t *testing.T) {
	m := newMapper(tracker.New(tracker.Options{}))
	const unc = `\\VBoxSvr\Users\bouss\MalSeclogon.exe`
	const mup = `\Device\Mup\VBoxSvr\Users\bouss\MalSeclogon.exe`
	parent := mapOne(t, m, sysmon(1, 1, at0, "UtcTime", utc(at0), "ProcessGuid", "{747F3D96-9ACD-61AF-D301-000000000102}",
		"ProcessId", "8612", "Image", unc, "CommandLine", "MalSeclogon.exe -p 6072"))
	at := at0.Add(time.Second)
	d := mapOne(t, m, security(4688, 2, at, "NewProcessId", "0x1234", "NewProcessName", mup,
		"ProcessId", "0x21a4", "ParentProcessName", mup, "CommandLine", "MalSeclogon.exe -d 1"))
	p := d.Process
	if p.Executable != unc || p.Name != "MalSeclogon.exe" || p.Parent.Executable != unc || p.Parent.Name != "MalSeclogon.exe" {
		t.Errorf("4688 images: %q %q, parent %q %q", p.Executable, p.Name, p.Parent.Executable, p.Parent.Name)
	}
	if p.Parent.EntityID != parent.Process.EntityID {
		t.Errorf("parent entity id %q, want the Sysmon start's %q", p.Parent.EntityID, parent.Process.EntityID)
	}
	if !strings.Contains(d.Message, unc) {
		t.Errorf("message %q", d.Message)
	}
	// An end nobody saw start names its image from the event.
	d = mapOne(t, m, security(4689, 3, at, "ProcessId", "0x77", "ProcessName", `\device\mup\srv\share\x.exe`))
	if d.Process.Executable != `\\srv\share\x.exe` || d.Process.Name != "x.exe" {
		t.Errorf("4689 image: %q %q", d.Process.Executable, d.Process.Name)
	}
	const volume = `\Device\HarddiskVolume3\Windows\System32\cmd.exe`
	d = mapOne(t, m, security(4688, 4, at, "NewProcessId", "0x78", "NewProcessName", volume, "ProcessId", "0x4", "ParentProcessName", volume))
	if d.Process.Executable != volume || d.Process.Parent.Executable != volume {
		t.Errorf("volume paths changed: %q %q", d.Process.Executable, d.Process.Parent.Executable)
	}
	// Mapping a share image again makes no garbage.
	rec := security(4688, 5, at, "NewProcessId", "0x79", "NewProcessName", mup, "ProcessId", "0x4", "ParentProcessName", mup)
	mapOne(t, m, rec)
	if got := m.RecordImage(rec); got != unc {
		t.Errorf("RecordImage %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { m.RecordImage(rec) }); n != 0 {
		t.Errorf("RecordImage of a share image: %v allocations", n)
	}
}

// process.parent.args are the split of the document's
// process.parent.command_line: the child's event's line when it gives
// one, which may differ from the line the parent's own start logged.
func TestParentArgsSplitTheDocumentsLine(t *testing.T) {
	m := newMapper(tracker.New(tracker.Options{}))
	const own = `"C:\Windows\system32\cmd.exe" /c "for /l %%i in (1,1,254) do ping -n 1 192.168.1.%%i"`
	const childs = `"C:\Windows\system32\cmd.exe" /c "for /l %i in (1,1,254) do ping -n 1 192.168.1.%i"`
	mapOne(t, m, sysmon(1, 1, at0, "UtcTime", utc(at0), "ProcessGuid", "{AAAAAAAA-0000-0000-0000-000000000031}",
		"ProcessId", "3000", "Image", `C:\Windows\System32\cmd.exe`, "CommandLine", own))
	child := func(rec uint64, parentLine string) (line string, args []string, count int64) {
		at := at0.Add(time.Duration(rec) * time.Second)
		d := mapOne(t, m, sysmon(1, rec, at, "UtcTime", utc(at), "ProcessGuid", fmt.Sprintf("{AAAAAAAA-0000-0000-0000-%012d}", 100+rec),
			"ProcessId", "3100", "Image", `C:\Windows\System32\PING.EXE`, "CommandLine", "ping -n 1 192.168.1.1",
			"ParentProcessGuid", "{AAAAAAAA-0000-0000-0000-000000000031}", "ParentProcessId", "3000",
			"ParentImage", `C:\Windows\System32\cmd.exe`, "ParentCommandLine", parentLine))
		pp := d.Process.Parent
		return pp.CommandLine, pp.Args, pp.ArgsCount.Value
	}
	for i, parentLine := range []string{childs, own, "?"} {
		line, args, count := child(uint64(2+i), parentLine)
		want := parentLine
		if parentLine == "?" {
			want = own // from the tracker, line and arguments
		}
		split := argv.Split(want)
		if line != want || !slices.Equal(args, split) || count != int64(len(split)) {
			t.Errorf("ParentCommandLine %q: command_line %q, args %q (%d), want %q", parentLine, line, args, count, split)
		}
	}
}

// host.hostname is the Computer's first label as the event spells it;
// host.name is the Computer lower-cased, and host.id is derived from
// that whatever the case.
func TestHostnameKeepsItsCase(t *testing.T) {
	m := newMapper(tracker.New(tracker.Options{}))
	rec := sysmon(10, 1, at0, "SourceProcessId", "1", "TargetProcessId", "2")
	rec.Computer = "MSEDGEWIN10.Corp.Example"
	h := mapOne(t, m, rec).Host
	if h.Hostname != "MSEDGEWIN10" || h.Name != "msedgewin10.corp.example" || h.ID != mapping.DeriveHostID("msedgewin10.corp.example") {
		t.Errorf("host %q %q %q", h.Hostname, h.Name, h.ID)
	}
	// This machine (WKS-042) is known by its short name in any case.
	rec.Computer = "WKS-042.corp.example.com"
	if h := mapOne(t, m, rec).Host; h.Hostname != "WKS-042" || h.ID != "host-1" {
		t.Errorf("this machine: %q %q", h.Hostname, h.ID)
	}
	rec.Computer = "wks-042"
	if h := mapOne(t, m, rec).Host; h.Hostname != "wks-042" || h.ID != "host-1" {
		t.Errorf("this machine, lower case: %q %q", h.Hostname, h.ID)
	}
}

// A Sysmon 10 document names the source and target images as the event
// does; the tracked starts fill only what the event lacks.
func TestAccessKeepsTheEventsImages(t *testing.T) {
	m := newMapper(tracker.New(tracker.Options{}))
	const src, tgt = "{747F3D96-9ACD-61AF-D301-000000000102}", "{747F3D96-9ACD-61AF-D401-000000000102}"
	mapOne(t, m, sysmon(1, 1, at0, "UtcTime", utc(at0), "ProcessGuid", src, "ProcessId", "8612",
		"Image", `\\VBoxSvr\Users\bouss\MalSeclogon.exe`, "User", `MSEDGEWIN10\IEUser`))
	mapOne(t, m, sysmon(1, 2, at0, "UtcTime", utc(at0), "ProcessGuid", tgt, "ProcessId", "704",
		"Image", `C:\Windows\System32\lsass.exe`))
	at := at0.Add(time.Second)
	access := func(rec uint64, srcImage, tgtImage string) (string, string, string) {
		d := mapOne(t, m, sysmon(10, rec, at, "UtcTime", utc(at), "SourceProcessGUID", src, "SourceProcessId", "8612",
			"SourceImage", srcImage, "TargetProcessGUID", tgt, "TargetProcessId", "704", "TargetImage", tgtImage, "GrantedAccess", "0x1010"))
		return d.Process.Executable, d.Target.Process.Executable, d.User.Name
	}
	if s, tg, user := access(3, `Z:\bouss\MalSeclogon.exe`, `C:\Windows\system32\lsass.exe`); s != `Z:\bouss\MalSeclogon.exe` ||
		tg != `C:\Windows\system32\lsass.exe` || user != "IEUser" {
		t.Errorf("images %q %q, user %q", s, tg, user)
	}
	if s, tg, _ := access(4, "<unknown process>", "<unknown process>"); s != `\\VBoxSvr\Users\bouss\MalSeclogon.exe` || tg != `C:\Windows\System32\lsass.exe` {
		t.Errorf("placeholders not filled: %q %q", s, tg)
	}
}
