package tracker

import (
	"reflect"
	"testing"
	"time"
)

// A parent is a parent only if it was alive when the child started: these
// tests cover the ways a pid or an entity id points at a process that was
// not.

func TestParentByPIDReuseWithinOneHost(t *testing.T) {
	tr := New(Options{})
	a := tr.Start("h", Entry{PID: 100, Start: t0, Executable: `C:\a.exe`})
	tr.EndPID("h", 100, t0.Add(5*time.Second))
	b := tr.Start("h", Entry{PID: 100, Start: t0.Add(10 * time.Second), Executable: `C:\b.exe`})
	for _, c := range []struct {
		at   time.Duration
		want string
	}{
		{-time.Second, ""}, // before anybody had the pid
		{3 * time.Second, a.EntityID},
		{7 * time.Second, ""}, // a had ended, b had not started
		{12 * time.Second, b.EntityID},
	} {
		child := tr.Start("h", Entry{PID: 200 + uint32(c.at/time.Second+10), ParentPID: 100, Start: t0.Add(c.at)})
		if child.ParentEntityID != c.want {
			t.Errorf("child at %v: parent %q, want %q", c.at, child.ParentEntityID, c.want)
		}
		if c.want == "" && child.Ancestry != nil {
			t.Errorf("child at %v: ancestry %q without a parent", c.at, child.Ancestry)
		}
	}
	// The end of a was never logged: b getting the pid ends a all the same.
	tr = New(Options{})
	a = tr.Start("h", Entry{PID: 100, Start: t0})
	b = tr.Start("h", Entry{PID: 100, Start: t0.Add(10 * time.Second)})
	if c := tr.Start("h", Entry{PID: 300, ParentPID: 100, Start: t0.Add(5 * time.Second)}); c.ParentEntityID != a.EntityID {
		t.Errorf("before the reuse: parent %q, want a", c.ParentEntityID)
	}
	if c := tr.Start("h", Entry{PID: 301, ParentPID: 100, Start: t0.Add(15 * time.Second)}); c.ParentEntityID != b.EntityID {
		t.Errorf("after the reuse: parent %q, want b", c.ParentEntityID)
	}
}

func TestParentAcrossRecordings(t *testing.T) {
	// Two recordings of hosts with the same name, months apart, replayed
	// through one tracker (a collection of lab recordings).
	tr := New(Options{})
	ping := tr.Start("h", Entry{EntityID: "{747F3D96-D953-5D31-0000-0010EFAE3600}", PID: 752, Start: t0, Executable: `C:\Windows\System32\PING.EXE`, Name: "PING.EXE"})
	later := t0.AddDate(0, 6, 0)

	// By pid (Security 4688): the 2019 process is not the 2020 child's parent.
	if c := tr.Start("h", Entry{PID: 6020, ParentPID: 752, Start: later}); c.ParentEntityID != "" || c.Ancestry != nil {
		t.Errorf("4688 child linked across recordings: %q %q", c.ParentEntityID, c.Ancestry)
	}
	// By entity id, with Sysmon's "?" for the image (no ParentExecutable):
	// the id the event gives stays, nothing else of the old process joins.
	child := Entry{EntityID: "{747F3D96-292D-5E1E-0000-001025607D00}", PID: 6020, ParentPID: 752, ParentEntityID: ping.EntityID, Start: later}
	c := tr.Start("h", child)
	if !reflect.DeepEqual(c.Ancestry, []string{ping.EntityID}) {
		t.Errorf("ancestry %q, want the event's parent id alone", c.Ancestry)
	}
	if p, ok := tr.ParentOf("h", &c); ok {
		t.Errorf("ParentOf gave the 2019 process %s", p.Name)
	}
	// The child's event naming the parent's image attests it is alive.
	child.EntityID, child.ParentExecutable = "{C2}", `C:\Windows\System32\ping.exe`
	if c := tr.Start("h", child); len(c.Ancestry) != 1 {
		t.Errorf("attested parent: ancestry %q", c.Ancestry)
	} else if _, ok := tr.ParentOf("h", &c); !ok {
		t.Error("attested parent not found")
	}
	// A different image, or a different pid, contradicts the id.
	for _, bad := range []Entry{
		{EntityID: "{C3}", PID: 1, ParentPID: 752, ParentEntityID: ping.EntityID, ParentExecutable: `C:\x.exe`, Start: t0.Add(time.Second)},
		{EntityID: "{C4}", PID: 2, ParentPID: 999, ParentEntityID: ping.EntityID, Start: t0.Add(time.Second)},
		{EntityID: "{C5}", PID: 3, ParentPID: 752, ParentEntityID: ping.EntityID, Start: t0.Add(-time.Second)},
	} {
		c := tr.Start("h", bad)
		if _, ok := tr.ParentOf("h", &c); ok {
			t.Errorf("%s: a contradicted parent was accepted", bad.EntityID)
		}
	}
	// Inside one recording the same check passes: the process was seen
	// recently, and every accepted child keeps it seen.
	tr = New(Options{})
	svc := tr.Start("h", Entry{PID: 600, Start: t0})
	for i, at := range []time.Duration{20 * time.Hour, 40 * time.Hour, 60 * time.Hour} {
		if c := tr.Start("h", Entry{PID: 700 + uint32(i), ParentPID: 600, Start: t0.Add(at)}); c.ParentEntityID != svc.EntityID {
			t.Errorf("child %d h later: parent %q", at/time.Hour, c.ParentEntityID)
		}
	}
	if c := tr.Start("h", Entry{PID: 800, ParentPID: 600, Start: t0.Add(85 * time.Hour)}); c.ParentEntityID != "" {
		t.Errorf("child a day after anything was seen of the parent: %q", c.ParentEntityID)
	}
	// An ended parent: not a parent of a process started after its end.
	e := tr.Start("h", Entry{EntityID: "{E}", PID: 900, Start: t0})
	tr.End("h", e.EntityID, t0.Add(time.Minute))
	c = tr.Start("h", Entry{EntityID: "{F}", PID: 901, ParentPID: 900, ParentEntityID: "{E}", Start: t0.Add(2 * time.Minute)})
	if _, ok := tr.ParentOf("h", &c); ok {
		t.Error("a process that had ended became a parent")
	}
}

func TestParentAcrossReboot(t *testing.T) {
	tr := New(Options{})
	old := tr.Start("h", Entry{PID: 600, Start: t0, Name: "services.exe"})
	other := tr.Start("h2", Entry{PID: 600, Start: t0})
	boot := t0.Add(time.Hour)
	tr.Start("h", Entry{PID: 300, ParentPID: 4, Name: "smss.exe", Start: boot})
	if c := tr.Start("h", Entry{PID: 5000, ParentPID: 600, Start: boot.Add(time.Minute)}); c.ParentEntityID != "" {
		t.Errorf("parent %q from before the boot", c.ParentEntityID)
	}
	if _, ok := tr.Lookup("h", old.EntityID); ok {
		t.Error("a process of the previous boot is still live")
	}
	if _, ok := tr.Lookup("h2", other.EntityID); !ok {
		t.Error("another host's process ended with this host's boot")
	}
	fresh := tr.Start("h", Entry{PID: 600, Start: boot.Add(time.Second), Name: "services.exe"})
	if c := tr.Start("h", Entry{PID: 5001, ParentPID: 600, Start: boot.Add(2 * time.Minute)}); c.ParentEntityID != fresh.EntityID {
		t.Errorf("parent %q, want this boot's services.exe", c.ParentEntityID)
	}
}
