package winevent

import "testing"

// sysmon1 is the event data of a Sysmon event 1 (schema 4.90), in the
// order Sysmon logs it.
var sysmon1 = []Data{
	{"RuleName", "-"}, {"UtcTime", "2026-11-27 15:04:05.123"},
	{"ProcessGuid", "{A1B2C3D4-0000-1111-2222-333344445555}"}, {"ProcessId", "4312"},
	{"Image", `C:\Windows\System32\cmd.exe`}, {"FileVersion", "10.0.19041.1"},
	{"Description", "Windows Command Processor"}, {"Product", "Microsoft Windows"},
	{"Company", "Microsoft Corporation"}, {"OriginalFileName", "Cmd.Exe"},
	{"CommandLine", `"C:\Windows\System32\cmd.exe" /c whoami`}, {"CurrentDirectory", `C:\Users\alice\`},
	{"User", `CORP\alice`}, {"LogonGuid", "{A1B2C3D4-0000-1111-2222-333344446666}"},
	{"LogonId", "0x3e7"}, {"TerminalSessionId", "1"}, {"IntegrityLevel", "High"},
	{"Hashes", "SHA256=0123"}, {"ParentProcessGuid", "{A1B2C3D4-0000-1111-2222-333344447777}"},
	{"ParentProcessId", "1200"}, {"ParentImage", `C:\Windows\explorer.exe`},
	{"ParentCommandLine", `C:\Windows\Explorer.EXE`}, {"ParentUser", `CORP\alice`},
}

// lookups are the names the mapping reads from a Sysmon event 1, in its
// order, with one it asks for and the event lacks.
var lookups = []string{"UtcTime", "ProcessId", "ProcessGuid", "ParentProcessGuid", "ParentImage",
	"Image", "CommandLine", "Hashes", "LogonId", "CurrentDirectory", "OriginalFileName",
	"FileVersion", "Description", "Product", "Company", "IntegrityLevel", "TerminalSessionId",
	"User", "IntegrityLevel", "ParentCommandLine", "ParentProcessId", "NewProcessName"}

func TestGet(t *testing.T) {
	r := Record{Data: append([]Data{{"", "empty name"}, {"Image", "second Image"}}, sysmon1...)}
	// Names built at run time, so that no comparison is by pointer.
	for _, d := range sysmon1 {
		name := string(append([]byte(nil), d.Name...))
		v, ok := r.Get(name)
		want := d.Value
		if name == "Image" {
			want = "second Image" // the first item of a name wins
		}
		if !ok || v != want {
			t.Errorf("Get(%q) = %q, %v; want %q", name, v, ok, want)
		}
	}
	if v, ok := r.Get(""); !ok || v != "empty name" {
		t.Errorf(`Get("") = %q, %v`, v, ok)
	}
	for _, name := range []string{"NewProcessName", "image", "Imag", "Images", "ParentUserX", "ParentUsex"} {
		if v, ok := r.Get(name); ok {
			t.Errorf("Get(%q) = %q, want absent", name, v)
		}
	}
	var empty Record
	if _, ok := empty.Get("Image"); ok {
		t.Error("Get on an empty record found a value")
	}
}

func BenchmarkGet(b *testing.B) {
	r := Record{Data: sysmon1}
	names := make([]string, len(lookups))
	for i, n := range lookups {
		names[i] = string(append([]byte(nil), n...)) // not the same pointers as the data's names
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, n := range names {
			r.Get(n)
		}
	}
}
