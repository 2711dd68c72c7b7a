package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
)

// startTimes returns the @timestamp of the start documents of pid in a
// replay's output, by event.code.
func startTimes(t *testing.T, out string, pid int) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var d struct {
			Timestamp string `json:"@timestamp"`
			Event     struct {
				Code string   `json:"code"`
				Type []string `json:"type"`
			} `json:"event"`
			Process struct {
				PID int `json:"pid"`
			} `json:"process"`
		}
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if d.Process.PID == pid && len(d.Event.Type) == 1 && d.Event.Type[0] == "start" {
			got[d.Event.Code] = d.Timestamp
		}
	}
	return got
}

// TestReplayZonelessTimeFromTimestamp: in OTRF's NXLog export, the 4688 of
// pid 5764 carries EventTime "2020-08-06 01:21:18" (the collector's UTC-4
// wall clock) and @timestamp "2020-08-06T05:21:19.964Z": its document lands
// at 05:21:18Z, beside its Sysmon twin (UtcTime 05:21:18.691), not four
// hours before it.
func TestReplayZonelessTimeFromTimestamp(t *testing.T) {
	f := corpus.RequireFile(t, "Security-Datasets/datasets/atomic/windows/lateral_movement/host/covenant_sharpsc_query_dcerpc_smb_svcctl_2020-08-06012009.json")
	out, stderr, code := run(t, "replay", "-E", "procbeat.merge_sources=false", f)
	if code != ExitOK || strings.Contains(stderr, "has no time zone") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if got := startTimes(t, out, 5764); got["4688"] != "2020-08-06T05:21:18.000Z" || got["1"] != "2020-08-06T05:21:18.691Z" {
		t.Errorf("start documents of pid 5764: %v", got)
	}
}

// TestReplayTimezoneSetting: a zone-less TimeCreated with nothing to tell
// its zone is read as UTC with a warning naming the file, record and
// field; procbeat.timezone says the zone.
func TestReplayTimezoneSetting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "security.json")
	rec := `{"EventID":4688,"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","Hostname":"WS1","TimeCreated":"2020-10-19 03:30:46.251",` +
		`"NewProcessId":"0x1c58","NewProcessName":"C:\\Tools\\PsExec.exe","ProcessId":"0x850","ParentProcessName":"C:\\Windows\\System32\\cmd.exe",` +
		`"SubjectUserSid":"S-1-5-18","SubjectLogonId":"0x3e7","CommandLine":"PsExec.exe -s cmd"}` + "\n"
	if err := os.WriteFile(path, []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
		warn bool
	}{
		{nil, "2020-10-19T03:30:46.251Z", true},
		{[]string{"-E", "procbeat.timezone=America/New_York"}, "2020-10-19T07:30:46.251Z", false},
		{[]string{"-E", "procbeat.timezone=+05:30"}, "2020-10-18T22:00:46.251Z", false},
	} {
		out, stderr, code := run(t, append(append([]string{"replay"}, c.args...), path)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s", c.args, code, stderr)
		}
		if got := startTimes(t, out, 0x1c58)["4688"]; got != c.want {
			t.Errorf("%v: @timestamp %s, want %s", c.args, got, c.want)
		}
		// The log line is JSON: the warning's quotes are escaped.
		warned := strings.Contains(stderr, filepath.Base(path)+`:1: record 1: TimeCreated \"2020-10-19 03:30:46.251\" has no time zone and the record has no @timestamp to tell it`)
		if warned != c.warn {
			t.Errorf("%v: warned %v\n%s", c.args, warned, stderr)
		}
	}
	_, stderr, code := run(t, "replay", "-E", "procbeat.timezone=Mars/Olympus", path)
	if code != ExitFatal || !strings.Contains(stderr, "procbeat.timezone") {
		t.Errorf("a zone that does not exist: exit %d\n%s", code, stderr)
	}
}
