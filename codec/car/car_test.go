package car_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/procbeat/procbeat/codec/car"
	"github.com/procbeat/procbeat/fields/document"
)

func TestStartBecomesCreate(t *testing.T) {
	var d document.Document
	d.Timestamp = time.Date(2024, 3, 5, 14, 22, 31, 123e6, time.UTC)
	d.Event.Action = "start"
	d.Process.PID = document.LongOf(4312)
	d.Process.Parent.PID = document.LongOf(0)
	d.Process.Executable = `C:\Windows\System32\cmd.exe`
	d.Process.Name = "cmd.exe"
	d.User.Domain, d.User.Name, d.User.ID = "CORP", "alice", "S-1-5-21-1-2-3-1104"
	d.Host.Name, d.Host.Hostname = "wks-042.corp.example.com", "wks-042"
	got := string(car.Append(nil, &d))
	want := `{"object":"process","action":"create","timestamp":"2024-03-05T14:22:31.123Z","pid":4312,"ppid":0,"image_path":"C:\\Windows\\System32\\cmd.exe","exe":"cmd.exe","user":"CORP\\alice","sid":"S-1-5-21-1-2-3-1104","fqdn":"wks-042.corp.example.com","hostname":"wks-042"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestAccessAndTerminate(t *testing.T) {
	var d document.Document
	d.Event.Code = "10"
	d.Winlog.EventData.GrantedAccess = "0x1010"
	d.Target.Process.PID = document.LongOf(688)
	d.Target.Process.Executable = `C:\Windows\system32\lsass.exe`
	var m map[string]any
	if err := json.Unmarshal(car.Append(nil, &d), &m); err != nil {
		t.Fatal(err)
	}
	if m["action"] != "access" || m["access_level"] != "0x1010" || m["target_pid"] != float64(688) {
		t.Errorf("access: %v", m)
	}
	for k := range m {
		if k != "object" && k != "action" && !slices.Contains(car.Fields, k) {
			t.Errorf("%s is not a CAR field", k)
		}
	}
	d = document.Document{}
	d.Event.Action = "end"
	if car.Action(&d) != "terminate" {
		t.Error("end is not terminate")
	}
}
