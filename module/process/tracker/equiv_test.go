package tracker

import (
	"encoding/base64"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/module/process/winfmt"
)

// syntheticEntityIDReference is SyntheticEntityID as it was before it
// stopped allocating four times (issue 17).
func syntheticEntityIDReference(host string, pid uint32, start time.Time) string {
	const epochDelta = 11644473600
	start = start.UTC()
	secs := start.Unix() + epochDelta
	ticks := start.Nanosecond() / 100
	buf := make([]byte, 0, len(host)+40)
	buf = append(buf, strings.ToLower(host)...)
	buf = append(buf, '-')
	buf = strconv.AppendUint(buf, uint64(pid), 10)
	buf = append(buf, '-')
	buf = strconv.AppendInt(buf, secs, 10)
	buf = append(buf, '.')
	frac := strconv.Itoa(ticks)
	for i := len(frac); i < 7; i++ {
		buf = append(buf, '0')
	}
	buf = append(buf, frac...)
	return base64.StdEncoding.EncodeToString(buf)
}

func FuzzSyntheticEntityIDEqualsReference(f *testing.F) {
	f.Add("WKS-042.corp.example.com", uint32(4), int64(1549604215453595300))
	f.Add("", uint32(0), int64(0))
	f.Add("AUTORITÉ-\u212a-"+strings.Repeat("X", 200), uint32(1<<32-1), int64(-1))
	f.Fuzz(func(t *testing.T, host string, pid uint32, ns int64) {
		at := time.Unix(0, ns)
		if got, want := SyntheticEntityID(host, pid, at), syntheticEntityIDReference(host, pid, at); got != want {
			t.Errorf("SyntheticEntityID(%q, %d, %v) = %q, want %q", host, pid, at, got, want)
		}
	})
}

func FuzzUpperKeyEqualsUpper(f *testing.F) {
	for _, s := range []string{"", "nt authority", "SYSTEM", "Autorité NT", "dwm-1", strings.Repeat("a", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf [64]byte
		if got, want := upperKey(buf[:], s), upper(s); got != want {
			t.Errorf("upperKey(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestSavedEntriesAsBefore: the mapping keeps hashes as logged and only
// the argument count; state files still hold hashes lower-cased and the
// arguments, as earlier versions wrote and read them.
func TestSavedEntriesAsBefore(t *testing.T) {
	tr := New(Options{})
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tr.Start("h", Entry{EntityID: "{A}", PID: 7, CommandLine: `cmd.exe /c "x y"`, ArgsCount: 3, Start: at,
		Hashes: winfmt.Hashes{MD5: "ABCDEF", SHA256: "abc123"}})
	var buf strings.Builder
	if err := tr.Save(&buf); err != nil {
		t.Fatal(err)
	}
	saved := buf.String()
	for _, want := range []string{`"args":["cmd.exe","/c","x y"]`, `"args_count":3`, `"MD5":"abcdef"`, `"SHA256":"abc123"`} {
		if !strings.Contains(saved, want) {
			t.Errorf("saved state lacks %s:\n%s", want, saved)
		}
	}
	if e, _ := tr.Lookup("h", "{A}"); e.Hashes.MD5 != "ABCDEF" || e.Args != nil {
		t.Errorf("saving changed the live entry: %+v", e)
	}
}

// FuzzStartParentIsStartThenParentOf: StartParent gives what Start and
// then ParentOf gave, and leaves the tracker as they did, for any sequence
// of starts and ends on trackers small enough to evict (issue 17).
func FuzzStartParentIsStartThenParentOf(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, uint8(2))
	f.Add([]byte{0, 0, 0, 0, 255, 255, 255, 255, 7, 7, 7, 7, 200, 100, 50, 25}, uint8(1))
	f.Fuzz(func(t *testing.T, ops []byte, size uint8) {
		opts := Options{MaxProcesses: int(size%5) + 1, Grace: int(size/5%3) - 1, MaxQuiet: time.Hour}
		fused, apart := New(opts), New(opts)
		base := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
		hosts := []string{"a", "b"}
		images := []string{"", `C:\x.exe`, `C:\Y.EXE`, `C:\Windows\System32\smss.exe`}
		for len(ops) >= 4 {
			op, a, b, c := ops[0], ops[1], ops[2], ops[3]
			ops = ops[4:]
			host := hosts[op&1]
			at := base.Add(time.Duration(c) * 10 * time.Minute)
			if op&2 != 0 && a&1 == 0 {
				at = time.Time{}
			}
			switch op >> 2 % 4 {
			case 0, 1:
				e := Entry{PID: uint32(a % 6), ParentPID: uint32(b % 6), Start: at,
					Executable: images[a>>4%4], ParentExecutable: images[b>>4%4]}
				if a&8 != 0 {
					e.EntityID = "{" + strconv.Itoa(int(a%7)) + "}"
				}
				if b&8 != 0 {
					e.ParentEntityID = "{" + strconv.Itoa(int(b%7)) + "}"
				}
				if e.Executable == images[3] {
					e.Name, e.ParentPID = "smss.exe", 4
				}
				got := e
				var gotParent Entry
				gotKnown := fused.StartParent(host, &got, &gotParent)
				want := apart.Start(host, e)
				wantParent, wantKnown := apart.ParentOf(host, &want)
				if !reflect.DeepEqual(got, want) || gotKnown != wantKnown || !reflect.DeepEqual(gotParent, wantParent) {
					t.Fatalf("StartParent(%+v) = %+v, %v %+v; want %+v, %v %+v", e, got, gotKnown, gotParent, want, wantKnown, wantParent)
				}
			case 2:
				id := "{" + strconv.Itoa(int(a%7)) + "}"
				g, gok := fused.End(host, id, at)
				w, wok := apart.End(host, id, at)
				if gok != wok || !reflect.DeepEqual(g, w) {
					t.Fatalf("End diverged: %+v %v, %+v %v", g, gok, w, wok)
				}
			case 3:
				g, gok := fused.EndPID(host, uint32(a%6), at)
				w, wok := apart.EndPID(host, uint32(a%6), at)
				if gok != wok || !reflect.DeepEqual(g, w) {
					t.Fatalf("EndPID diverged: %+v %v, %+v %v", g, gok, w, wok)
				}
			}
		}
		var gs, ws strings.Builder
		if err := fused.Save(&gs); err != nil {
			t.Fatal(err)
		}
		if err := apart.Save(&ws); err != nil {
			t.Fatal(err)
		}
		if gs.String() != ws.String() {
			t.Fatalf("states differ:\n%s\n%s", gs.String(), ws.String())
		}
	})
}

// bootReference is boot as it was before it counted the host's processes
// through the pid index first (issue 17): a scan of every process.
func bootReference(t *Tracker, host string, at time.Time) {
	var dead []int32
	_ = t.procs.each(func(s int32) error {
		if t.procs.key(s).host == host && t.procs.val(s).Start.Before(at) {
			dead = append(dead, s)
		}
		return nil
	})
	for _, s := range dead {
		t.unlinkPID(s)
		t.procs.remove(s)
	}
}

// FuzzBootIsReference checks that boot ends the same processes as
// bootReference and frees their slots in the same order: two trackers
// built alike, booted each way, then given the same starts, hold the same
// entries in the same slots.
func FuzzBootIsReference(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, uint8(30), uint8(7))
	f.Add([]byte{0, 0, 0, 0, 255, 255, 255, 255, 7, 7, 7, 7, 200, 100, 50, 25}, uint8(0), uint8(200))
	f.Fuzz(func(t *testing.T, ops []byte, size, when uint8) {
		opts := Options{MaxProcesses: int(size%9) + 1, MaxQuiet: time.Hour}
		fast, ref := New(opts), New(opts)
		base := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
		hosts := []string{"a", "b"}
		apply := func(op, a, b byte) {
			for _, tr := range []*Tracker{fast, ref} {
				host := hosts[op&1]
				at := base.Add(time.Duration(b) * time.Minute)
				if op&2 != 0 {
					tr.End(host, "{"+strconv.Itoa(int(a%11))+"}", at)
					continue
				}
				tr.Start(host, Entry{EntityID: "{" + strconv.Itoa(int(a%11)) + "}", PID: uint32(a % 5), Start: at})
			}
		}
		half := len(ops) / 2 / 3 * 3
		for i := 0; i+3 <= half; i += 3 {
			apply(ops[i], ops[i+1], ops[i+2])
		}
		host, at := hosts[when&1], base.Add(time.Duration(when/2)*time.Minute)
		fast.boot(host, at)
		bootReference(ref, host, at)
		for i := half; i+3 <= len(ops); i += 3 {
			apply(ops[i], ops[i+1], ops[i+2])
		}
		if fast.procs.slots() != ref.procs.slots() || fast.procs.free != ref.procs.free || fast.procs.len() != ref.procs.len() {
			t.Fatalf("tables differ: %d slots, free %d, %d live; want %d, %d, %d",
				fast.procs.slots(), fast.procs.free, fast.procs.len(), ref.procs.slots(), ref.procs.free, ref.procs.len())
		}
		for s := int32(0); int(s) < fast.procs.slots(); s++ {
			if g, w := fast.procs.node(s), ref.procs.node(s); !reflect.DeepEqual(g, w) || fast.procs.links[s] != ref.procs.links[s] {
				t.Fatalf("slot %d: %+v, want %+v", s, g, w)
			}
		}
	})
}
