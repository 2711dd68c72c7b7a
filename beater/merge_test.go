package beater_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/testing/corpus"
)

// twinProc is one process of the generated host, as Sysmon and Security
// log it.
type twinProc struct {
	pid, ppid      int
	image, cmd     string
	start, end     time.Duration // from the log's origin
	sysmon, secLog bool          // which sources logged it
}

var twinOrigin = time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC)

// twinLogs writes a Sysmon and a Security XML log of one host: processes
// logged by both (with Sysmon's own UtcTime 2 s ahead of its
// TimeCreated), by one only, a pid reused by another image, and one
// reused by the same image after the first ended.
func twinLogs(t *testing.T, dir string) (sysPath, secPath string, procs []twinProc) {
	t.Helper()
	procs = []twinProc{
		{pid: 1000, ppid: 600, image: `C:\Windows\System32\cmd.exe`, cmd: `cmd.exe /c whoami`, start: 0, end: 3 * time.Second, sysmon: true, secLog: true},
		{pid: 1004, ppid: 1000, image: `C:\Windows\System32\whoami.exe`, cmd: `whoami`, start: time.Second, end: 2 * time.Second, sysmon: true, secLog: true},
		{pid: 1008, ppid: 600, image: `C:\Tools\only-sysmon.exe`, cmd: `only-sysmon.exe`, start: 10 * time.Second, end: 11 * time.Second, sysmon: true},
		{pid: 1012, ppid: 600, image: `C:\Tools\only-security.exe`, cmd: `only-security.exe`, start: 20 * time.Second, end: 22 * time.Second, secLog: true},
		{pid: 1000, ppid: 600, image: `C:\Windows\notepad.exe`, cmd: `notepad.exe`, start: 30 * time.Second, end: 40 * time.Second, sysmon: true, secLog: true},
		{pid: 1000, ppid: 600, image: `C:\Windows\notepad.exe`, cmd: `notepad.exe`, start: 41 * time.Second, end: 50 * time.Second, sysmon: true, secLog: true},
		{pid: 1016, ppid: 600, image: `C:\Windows\System32\svchost.exe`, cmd: `svchost.exe -k x`, start: 60 * time.Second, end: 61 * time.Second, sysmon: true, secLog: true},
	}
	type line struct {
		at  time.Duration
		xml string
	}
	var sys, sec []line
	for i, p := range procs {
		guid := fmt.Sprintf("{8C5A2F71-0000-65E7-%04X-000000003C00}", i+1)
		if p.sysmon {
			sys = append(sys,
				line{p.start, sysmonXML(1, p.start, 100+2*i, fmt.Sprintf(`<Data Name="ProcessGuid">%s</Data><Data Name="ProcessId">%d</Data><Data Name="Image">%s</Data><Data Name="CommandLine">%s</Data><Data Name="CurrentDirectory">C:\Users\bob\</Data><Data Name="User">CORP\bob</Data><Data Name="LogonId">0x77aa</Data><Data Name="IntegrityLevel">High</Data><Data Name="Hashes">SHA256=%064X</Data><Data Name="ParentProcessGuid">{8C5A2F71-0000-65E7-FFFF-000000003C00}</Data><Data Name="ParentProcessId">%d</Data><Data Name="ParentImage">C:\Windows\explorer.exe</Data>`, guid, p.pid, p.image, p.cmd, i+1, p.ppid))},
				line{p.end, sysmonXML(5, p.end, 101+2*i, fmt.Sprintf(`<Data Name="ProcessGuid">%s</Data><Data Name="ProcessId">%d</Data><Data Name="Image">%s</Data>`, guid, p.pid, p.image))})
		}
		if p.secLog {
			sec = append(sec,
				line{p.start, securityXML(4688, p.start+7*time.Millisecond, 9000+2*i, fmt.Sprintf(`<Data Name="SubjectUserSid">S-1-5-21-1-2-3-1107</Data><Data Name="SubjectUserName">bob</Data><Data Name="SubjectDomainName">CORP</Data><Data Name="SubjectLogonId">0x77aa</Data><Data Name="NewProcessId">0x%x</Data><Data Name="NewProcessName">%s</Data><Data Name="TokenElevationType">%%%%1937</Data><Data Name="ProcessId">0x%x</Data><Data Name="CommandLine">%s</Data><Data Name="TargetUserSid">S-1-0-0</Data><Data Name="ParentProcessName">C:\Windows\explorer.exe</Data><Data Name="MandatoryLabel">S-1-16-12288</Data>`, p.pid, strings.ToUpper(p.image), p.ppid, p.cmd))},
				line{p.end, securityXML(4689, p.end+5*time.Millisecond, 9001+2*i, fmt.Sprintf(`<Data Name="SubjectUserSid">S-1-5-21-1-2-3-1107</Data><Data Name="SubjectUserName">bob</Data><Data Name="SubjectDomainName">CORP</Data><Data Name="SubjectLogonId">0x77aa</Data><Data Name="Status">0x1</Data><Data Name="ProcessId">0x%x</Data><Data Name="ProcessName">%s</Data>`, p.pid, p.image))})
		}
	}
	write := func(name string, ls []line) string {
		sort.SliceStable(ls, func(i, j int) bool { return ls[i].at < ls[j].at })
		var b strings.Builder
		for _, l := range ls {
			b.WriteString(l.xml)
			b.WriteByte('\n')
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("sysmon.xml", sys), write("security.xml", sec), procs
}

func sysmonXML(id int, at time.Duration, rec int, data string) string {
	ts := twinOrigin.Add(at)
	// Sysmon's own clock (UtcTime) runs 2 s ahead of the event log's.
	utc := ts.Add(2 * time.Second).Format("2006-01-02 15:04:05.000")
	return fmt.Sprintf(`<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Sysmon" Guid="{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"/><EventID>%d</EventID><Version>5</Version><TimeCreated SystemTime="%s"/><EventRecordID>%d</EventRecordID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>WKS-7.corp.example.com</Computer></System><EventData><Data Name="UtcTime">%s</Data>%s</EventData></Event>`,
		id, ts.Format(time.RFC3339Nano), rec, utc, data)
}

func securityXML(id int, at time.Duration, rec int, data string) string {
	return fmt.Sprintf(`<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing" Guid="{54849625-5478-4994-A5BA-3E3B0328C30D}"/><EventID>%d</EventID><Version>2</Version><TimeCreated SystemTime="%s"/><EventRecordID>%d</EventRecordID><Channel>Security</Channel><Computer>WKS-7.corp.example.com</Computer></System><EventData>%s</EventData></Event>`,
		id, twinOrigin.Add(at).Format(time.RFC3339Nano), rec, data)
}

// bodyOutput keeps every delivered document by _id; after accept events
// it hangs (a kill), accept < 0 never.
type bodyOutput struct {
	mu     sync.Mutex
	byID   map[string]string
	sends  int
	accept int
	hung   func()
}

func (o *bodyOutput) Limits() pipeline.Limits { return pipeline.Limits{MaxEvents: 1} }
func (o *bodyOutput) Close() error            { return nil }
func (o *bodyOutput) Publish(ctx context.Context, evs []pipeline.Event) error {
	o.mu.Lock()
	if o.accept >= 0 && o.accept < len(evs) {
		o.mu.Unlock()
		if o.hung != nil {
			o.hung()
		}
		<-ctx.Done()
		return ctx.Err()
	}
	for _, e := range evs {
		o.sends++
		if _, ok := o.byID[e.ID]; !ok { // create: the first stored wins
			// agent.id is each data directory's own.
			o.byID[e.ID] = agentID.ReplaceAllString(string(e.Body), `"agent":{"id":"-"`)
		}
	}
	if o.accept >= 0 {
		o.accept -= len(evs)
	}
	o.mu.Unlock()
	return nil
}

var agentID = regexp.MustCompile(`"agent":\{"id":"[^"]*"`)

// sameDocs fails with the first _id whose documents differ.
func sameDocs(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for id, w := range want {
		if g, ok := got[id]; !ok {
			t.Fatalf("%s: document %s missing:\n%s", what, id, w)
		} else if g != w {
			t.Fatalf("%s: document %s differs:\n got %s\nwant %s", what, id, g, w)
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			t.Fatalf("%s: extra document %s:\n%s", what, id, g)
		}
	}
}

func mergeBeater(t *testing.T, data string, out pipeline.Output, merge bool) *beater.Beater {
	t.Helper()
	cfg := config.Default()
	cfg.Path.Data = data
	cfg.Procbeat.MergeSources = merge
	now := func() time.Time { return twinOrigin.Add(time.Hour) }
	b, err := beater.NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, out, beater.Options{Resume: true, Now: now, DrainTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func replayBodies(t *testing.T, merge bool, args ...string) map[string]string {
	t.Helper()
	out := &bodyOutput{byID: map[string]string{}, accept: -1}
	b := mergeBeater(t, t.TempDir(), out, merge)
	if _, err := b.Replay(context.Background(), args); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return out.byID
}

type docView struct {
	Event struct {
		Action   string `json:"action"`
		Code     string `json:"code"`
		Provider string `json:"provider"`
	} `json:"event"`
	Process struct {
		PID        int    `json:"pid"`
		EntityID   string `json:"entity_id"`
		Executable string `json:"executable"`
		ExitCode   *int   `json:"exit_code"`
		Hash       struct {
			SHA256 string `json:"sha256"`
		} `json:"hash"`
		WorkingDirectory string `json:"working_directory"`
		Parent           struct {
			EntityID string `json:"entity_id"`
		} `json:"parent"`
		Ext struct {
			AuthenticationID string `json:"authentication_id"`
			Token            struct {
				ElevationLevel string `json:"elevation_level"`
			} `json:"token"`
		} `json:"Ext"`
	} `json:"process"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
}

func views(t *testing.T, docs map[string]string) []docView {
	t.Helper()
	var vs []docView
	for id, body := range docs {
		var v docView
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		vs = append(vs, v)
	}
	return vs
}

// A replay of a Sysmon log and a Security log of one machine gives one
// start and one end document per process, with the union of fields, and
// the same documents whether the logs are given in either order or as the
// directory holding both.
func TestMergeTwoLogsAnyOrder(t *testing.T) {
	dir := t.TempDir()
	sysPath, secPath, procs := twinLogs(t, dir)
	byDir := replayBodies(t, true, dir)
	for _, args := range [][]string{{sysPath, secPath}, {secPath, sysPath}} {
		sameDocs(t, fmt.Sprintf("replay of %v against the directory", args), replayBodies(t, true, args...), byDir)
	}
	if len(byDir) != 2*len(procs) {
		t.Fatalf("%d documents for %d processes, want one start and one end each", len(byDir), len(procs))
	}
	merged := 0
	for _, v := range views(t, byDir) {
		p := &v.Process
		if !strings.HasPrefix(p.EntityID, "{8C5A2F71-") && p.Executable != `C:\Tools\only-security.exe` && p.Executable != `C:\TOOLS\ONLY-SECURITY.EXE` {
			t.Errorf("%s %s: entity_id %q is not the Sysmon GUID", v.Event.Action, p.Executable, p.EntityID)
		}
		if v.Event.Provider != "Microsoft-Windows-Sysmon" || p.Executable == `C:\Tools\only-sysmon.exe` {
			continue
		}
		merged++
		switch v.Event.Action {
		case "start":
			if p.Hash.SHA256 == "" || p.WorkingDirectory == "" || p.Parent.EntityID == "" || p.Ext.Token.ElevationLevel != "full" || v.User.ID != "S-1-5-21-1-2-3-1107" || p.Ext.AuthenticationID != "0x77aa" {
				t.Errorf("merged start of %s lacks a field: %+v user %s", p.Executable, p, v.User.ID)
			}
		case "end":
			if p.ExitCode == nil || *p.ExitCode != 1 {
				t.Errorf("merged end of %s lacks the exit code from 4689: %+v", p.Executable, p)
			}
		}
	}
	if merged != 2*5 {
		t.Errorf("%d merged documents, want 10 (5 processes logged by both)", merged)
	}
}

// An archive is read as its extracted files are: its members are peeked
// at for the hosts that log both Sysmon and Security, so that one export
// holding both logs (as the OTRF datasets ship them, zipped) gives merged
// documents from the zip as from the file.
func TestMergeInsideArchive(t *testing.T) {
	dir := t.TempDir()
	sysPath, secPath, procs := twinLogs(t, dir)
	var both []byte
	for _, p := range []string{sysPath, secPath} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		both = append(both, b...)
	}
	plain := filepath.Join(t.TempDir(), "both.xml")
	if err := os.WriteFile(plain, both, 0o600); err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, err := zw.Create("logs/both.xml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(both); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zipped := filepath.Join(t.TempDir(), "both.zip")
	if err := os.WriteFile(zipped, zb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	want := replayBodies(t, true, plain)
	if len(want) != 2*len(procs) {
		t.Fatalf("the file gives %d documents for %d processes, want one start and one end each", len(want), len(procs))
	}
	sameDocs(t, "replay of the zip against its file", replayBodies(t, true, zipped), want)
}

// merge_sources: false keeps today's documents, the Security ones on the
// Sysmon entity_id when Sysmon's record came first.
func TestMergeSourcesFalseKeepsBoth(t *testing.T) {
	dir := t.TempDir()
	sysPath, secPath, procs := twinLogs(t, dir)
	docs := replayBodies(t, false, sysPath, secPath)
	if want := 2 * (5*2 + 2); len(docs) != want {
		t.Fatalf("%d documents, want %d (both sources' records of %d processes)", len(docs), want, len(procs))
	}
	for _, v := range views(t, docs) {
		if v.Event.Code == "4688" && v.Process.Executable != `C:\TOOLS\ONLY-SECURITY.EXE` && !strings.HasPrefix(v.Process.EntityID, "{8C5A2F71-") {
			t.Errorf("4688 of %s: entity_id %q, want the known Sysmon twin's GUID", v.Process.Executable, v.Process.EntityID)
		}
	}
}

// A replay stopped after every acknowledged document (held records lost
// unacknowledged, as in a kill) and resumed stores the documents of a
// whole replay: the same _ids, one start and one end per process, and the
// same merged fields (identity, hashes, PE, token, exit code, provider).
// Whole bodies are not compared: the process table is saved every few
// seconds, not with each checkpoint, so a resumed run enriches ends (start
// details, SIDs) from a table that is behind or ahead of the records it
// reads again; that holds with merging off too.
func TestMergeRestartAtEverySplitPoint(t *testing.T) {
	const merge = true
	dir := t.TempDir()
	twinLogs(t, dir)
	want := replayBodies(t, merge, dir)
	for accept := 0; accept <= len(want); accept++ {
		data := t.TempDir()
		first := &bodyOutput{byID: map[string]string{}, accept: accept}
		ctx, kill := context.WithCancel(context.Background())
		first.hung = kill
		b := mergeBeater(t, data, first, merge)
		if _, err := b.Replay(ctx, []string{dir}); err != nil && ctx.Err() == nil {
			t.Fatal(err)
		}
		b.Close()
		kill()
		second := &bodyOutput{byID: first.byID, accept: -1}
		b = mergeBeater(t, data, second, merge)
		if _, err := b.Replay(context.Background(), []string{dir}); err != nil {
			t.Fatal(err)
		}
		b.Close()
		sameDocs(t, fmt.Sprintf("stopped after %d documents", accept), mergedFields(t, second.byID), mergedFields(t, want))
	}
}

// mergedFields projects each document on what merging decides.
func mergedFields(t *testing.T, docs map[string]string) map[string]string {
	t.Helper()
	out := make(map[string]string, len(docs))
	for id, body := range docs {
		var v docView
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if v.Event.Action == "end" {
			// An end's start details come from the process table, saved
			// every few seconds: not the merge's to keep.
			p := &v.Process
			p.Hash.SHA256, p.WorkingDirectory, p.Parent.EntityID = "", "", ""
			p.Ext.AuthenticationID, p.Ext.Token.ElevationLevel, v.User.ID = "", "", ""
			p.Executable = ""
			if v.Event.Provider != "Microsoft-Windows-Sysmon" {
				p.EntityID = "" // 4689 names no process id but by pid
			}
		}
		if v.Process.Ext.Token.ElevationLevel == "" {
			// A start without Security's token: user.id is a SID the
			// process table learned by name, not the merge's either.
			v.User.ID = ""
		}
		b, _ := json.Marshal(v)
		out[id] = string(b)
	}
	return out
}

// OTRF Security-Datasets recordings hold the Sysmon and Security logs of
// one machine in one file. Split into a Sysmon and a Security file (in a
// temporary directory), the two files in either order give the documents
// of the directory holding both, with every process start and end of the
// recording merged.
func TestMergeCorpusTwoLogsAnyOrder(t *testing.T) {
	dir := corpus.Require(t)
	for _, c := range []struct {
		rel    string
		merged int // start and end documents made of two records
	}{
		{"Security-Datasets/datasets/atomic/windows/credential_access/host/cmd_psexec_lsa_secrets_dump_2020-10-1903305471.json", 8},
		{"Security-Datasets/datasets/atomic/windows/lateral_movement/host/covenant_sharpsc_query_dcerpc_smb_svcctl_2020-08-06012009.json", 4},
	} {
		t.Run(filepath.Base(c.rel), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, c.rel))
			if err != nil {
				t.Fatal(err)
			}
			var sys, sec strings.Builder
			for _, line := range strings.SplitAfter(string(raw), "\n") {
				if strings.Contains(line, "Microsoft-Windows-Sysmon") {
					sys.WriteString(line)
				} else {
					sec.WriteString(line)
				}
			}
			tmp := t.TempDir()
			sysPath, secPath := filepath.Join(tmp, "sysmon.json"), filepath.Join(tmp, "security.json")
			if err := os.WriteFile(sysPath, []byte(sys.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(secPath, []byte(sec.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			byDir := replayBodies(t, true, tmp)
			sameDocs(t, "sysmon then security", replayBodies(t, true, sysPath, secPath), byDir)
			sameDocs(t, "security then sysmon", replayBodies(t, true, secPath, sysPath), byDir)
			merged, security := 0, 0
			for _, v := range views(t, byDir) {
				switch {
				case v.Event.Provider == "Microsoft-Windows-Sysmon" && v.Process.Ext.Token.ElevationLevel != "":
					merged++
				case v.Event.Code == "4688" || v.Event.Code == "4689":
					security++
				}
			}
			if merged != c.merged || security != 0 {
				t.Errorf("%d merged documents, %d Security documents left alone; want %d and 0", merged, security, c.merged)
			}
		})
	}
}

// Security names images on network shares by device path
// (\Device\Mup\server\share\...), Sysmon by UNC path: MalSeclogon, run
// from a VirtualBox share, still merges into one start per process (two
// before the device path was read as the UNC path), on the Sysmon ids.
func TestMergeNetworkShareImages(t *testing.T) {
	path := corpus.RequireFile(t, "EVTX-ATTACK-SAMPLES/Credential Access/tutto_malseclogon.evtx")
	const image = `\\VBoxSvr\Users\bouss\Downloads\MalSeclogon-master\x64\Debug\MalSeclogon.exe`
	starts := map[int][]docView{}
	n := 0
	for _, v := range views(t, replayBodies(t, true, path)) {
		n++
		if v.Event.Action == "start" {
			starts[v.Process.PID] = append(starts[v.Process.PID], v)
		}
	}
	for pid, guid := range map[int]string{8612: "{747F3D96-9ACD-61AF-D301-000000000102}", 6072: "{747F3D96-9ACD-61AF-D501-000000000102}"} {
		vs := starts[pid]
		if len(vs) != 1 {
			t.Errorf("pid %d: %d start documents, want 1 (Sysmon 1 and 4688 merged)", pid, len(vs))
			continue
		}
		if p := vs[0].Process; p.EntityID != guid || p.Executable != image || p.Ext.Token.ElevationLevel == "" {
			t.Errorf("pid %d: merged start %+v, want entity_id %s, executable %s and 4688's elevation", pid, p, guid, image)
		}
	}
	if n != 9 {
		t.Errorf("%d documents, want 9 (6 starts, 3 accesses)", n)
	}
}

// `run` over a collection folder holding a host's Sysmon and Security logs
// merges as a replay does, and a restart sends nothing again.
func TestRunMergesCollectionFolder(t *testing.T) {
	in := t.TempDir()
	twinLogs(t, in)
	want := replayBodies(t, true, in)
	cfg := config.Default()
	cfg.Path.Data = t.TempDir()
	cfg.Procbeat.ScanFrequency = 100 * time.Millisecond
	cfg.Procbeat.Inputs = []config.Input{{Type: "xml", Enabled: true, Paths: []string{in}}}
	now := func() time.Time { return twinOrigin.Add(time.Hour) }
	for run := range 2 {
		out := &bodyOutput{byID: map[string]string{}, accept: -1}
		b, err := beater.NewWithOutput(context.Background(), cfg, monitoring.NopLogger{}, out, beater.Options{Resume: true, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		if run == 0 {
			deadline := time.Now().Add(5 * time.Second)
			for n := 0; n < len(want) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				out.mu.Lock()
				n = len(out.byID)
				out.mu.Unlock()
			}
		} else {
			time.Sleep(300 * time.Millisecond) // three scans
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			sameDocs(t, "run", out.byID, want)
		} else if out.sends != 0 {
			t.Errorf("restart sent %d documents again", out.sends)
		}
	}
}
