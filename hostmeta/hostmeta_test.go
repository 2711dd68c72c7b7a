package hostmeta

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/module/process/mapping"
)

func facts() Facts {
	return Facts{
		ID: "2f6e1b3c-0d7a-4c1e-9a55-7a1d3c9e0b21", Hostname: "SRV01", FQDN: "srv01.corp.example.com.",
		Architecture: "x86_64", Kernel: "10.0.20348.2340 (WinBuild.160101.0800)",
		OSName: "Windows Server 2022 Datacenter", OSVersion: "10.0", OSBuild: "20348.2340",
		IPs:  []string{"127.0.0.1/8", "10.1.2.3/24", "::1/128", "fe80::1c2b:3a4d:5e6f:7081/64", "10.1.2.3/24"},
		MACs: []string{"00:15:5d:01:02:03", "00:00:00:00:00:00", "not-a-mac", "00:15:5d:01:02:03"},
	}
}

func TestHostOf(t *testing.T) {
	h := HostOf(facts(), mapping.Host{})
	want := mapping.Host{
		ID: "2f6e1b3c-0d7a-4c1e-9a55-7a1d3c9e0b21", Architecture: "x86_64",
		IP:        []string{"10.1.2.3", "fe80::1c2b:3a4d:5e6f:7081"},
		MAC:       []string{"00-15-5D-01-02-03"},
		OSVersion: "10.0", OSKernel: "10.0.20348.2340 (WinBuild.160101.0800)",
		OSVariant: "Windows Server 2022 Datacenter", OSFull: "Windows Server 2022 Datacenter 20348.2340",
	}
	if !equal(h, want) {
		t.Fatalf("got  %+v\nwant %+v", h, want)
	}
	// Configured values win, one by one.
	h = HostOf(facts(), mapping.Host{ID: "cmdb-7", IP: []string{"192.0.2.7"}, OSFull: "Windows Server 2022 (golden image 5)"})
	if h.ID != "cmdb-7" || !slices.Equal(h.IP, []string{"192.0.2.7"}) || h.OSFull != "Windows Server 2022 (golden image 5)" || h.Architecture != "x86_64" || len(h.MAC) != 1 {
		t.Fatalf("static overrides: %+v", h)
	}
}

func equal(a, b mapping.Host) bool {
	return a.ID == b.ID && a.Architecture == b.Architecture && slices.Equal(a.IP, b.IP) && slices.Equal(a.MAC, b.MAC) &&
		a.OSVersion == b.OSVersion && a.OSFull == b.OSFull && a.OSKernel == b.OSKernel && a.OSVariant == b.OSVariant
}

func TestIsLocal(t *testing.T) {
	for _, tc := range []struct {
		name, short, fqdn string
		want              bool
	}{
		{"srv01.corp.example.com", "srv01", "srv01.corp.example.com", true},
		{"srv01", "srv01", "srv01.corp.example.com", true},
		{"srv01.corp.example.com", "srv01", "", true},      // DNS name unknown here
		{"srv01.corp.example.com", "srv01", "srv01", true}, // resolver gave the short name
		{"srv01.other.example.org", "srv01", "srv01.corp.example.com", false},
		{"wks-042.corp.example.com", "srv01", "srv01.corp.example.com", false},
		{"srv011.corp.example.com", "srv01", "", false},
		{"", "srv01", "", false},
	} {
		if got := IsLocal(tc.name, tc.short, tc.fqdn); got != tc.want {
			t.Errorf("IsLocal(%q, %q, %q) = %v", tc.name, tc.short, tc.fqdn, got)
		}
	}
}

func TestProviderLookupAndRefresh(t *testing.T) {
	f := facts()
	calls := 0
	p := New(context.Background(), Options{Load: func(context.Context) (Facts, error) {
		calls++
		if calls == 3 {
			return Facts{}, errors.New("registry unreadable")
		}
		return f, nil
	}})
	local := p.Lookup("srv01.corp.example.com")
	if local == nil || local.ID != f.ID {
		t.Fatalf("local host: %+v", local)
	}
	if p.Lookup("wks-042.corp.example.com") != nil {
		t.Fatal("another host got this host's metadata")
	}
	// A refresh picks up a new address; a failed one keeps the last values.
	f.IPs = []string{"10.9.9.9/16"}
	if err := p.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := p.Lookup("srv01").IP; !slices.Equal(got, []string{"10.9.9.9"}) {
		t.Fatalf("after refresh: %v", got)
	}
	if err := p.Refresh(context.Background()); err == nil {
		t.Fatal("failed load not reported")
	}
	if got := p.Lookup("srv01").IP; !slices.Equal(got, []string{"10.9.9.9"}) {
		t.Fatalf("after a failed refresh: %v", got)
	}
	if n := testing.AllocsPerRun(100, func() { p.Lookup("srv01.corp.example.com") }); n != 0 {
		t.Fatalf("Lookup allocates %v times", n)
	}
}

func TestProviderRunRefreshes(t *testing.T) {
	loads := make(chan struct{}, 10)
	p := New(context.Background(), Options{Load: func(context.Context) (Facts, error) {
		loads <- struct{}{}
		return facts(), nil
	}})
	<-loads
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx, 5*time.Millisecond); close(done) }()
	for range 2 {
		select {
		case <-loads:
		case <-time.After(2 * time.Second):
			t.Fatal("no periodic refresh")
		}
	}
	cancel()
	<-done
}

// TestUnreadableFactsKeepConfiguredValues: when the system cannot be read
// the configured values still apply, as before host metadata was read.
func TestUnreadableFactsKeepConfiguredValues(t *testing.T) {
	p := New(context.Background(), Options{
		Static: mapping.Host{ID: "cmdb-7"},
		Load:   func(context.Context) (Facts, error) { return Facts{}, errors.New("denied") },
	})
	if h := p.Lookup("anything"); h == nil || h.ID != "cmdb-7" {
		t.Fatalf("%+v", h)
	}
}

// TestSysinfoOnThisHost reads the real system (Linux here, Windows on a
// Windows host): the id and the OS may be unknown in a container, the name
// and the architecture never are.
func TestSysinfoOnThisHost(t *testing.T) {
	f, err := Sysinfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.Hostname == "" || f.Architecture == "" {
		t.Fatalf("facts %+v", f)
	}
	p := New(context.Background(), Options{Load: func(context.Context) (Facts, error) { return f, nil }})
	if p.Lookup(strings.ToLower(f.Hostname)) == nil {
		t.Fatalf("this host (%q) is not local to itself", f.Hostname)
	}
}
