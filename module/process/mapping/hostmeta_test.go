package mapping_test

import (
	"testing"
	"time"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/tracker"
)

// TestHostMetaOnlyForItsHost: with Options.HostMeta, the metadata goes on
// the documents of the host it describes and on no other (a collector's
// forwarded events), whatever Options.Host says; host.id is unchanged.
func TestHostMetaOnlyForItsHost(t *testing.T) {
	local := &mapping.Host{ID: "guid-srv01", Architecture: "x86_64", IP: []string{"10.0.0.1"}, MAC: []string{"00-11-22-33-44-55"}, OSVariant: "Windows Server 2022 Datacenter"}
	var asked []string
	m := mapping.New(tracker.New(tracker.Options{}), mapping.Options{
		// host.id stays the host ids' business: this machine's id for
		// its own events, one derived from the name for the others.
		Host: mapping.Host{ID: "guid-srv01", Name: "SRV01", Architecture: "static-must-not-appear"},
		HostMeta: func(name string) *mapping.Host {
			asked = append(asked, name)
			if name == "srv01.corp.example.com" {
				return local
			}
			return nil
		},
		Now: func() time.Time { return created },
	})
	recs := readRecords(t, "testdata/scenario.xml")
	var doc document.Document
	seen := map[string]int{}
	for i := range recs {
		kind, err := m.Map(&recs[i], &doc)
		if err != nil || kind == mapping.None {
			continue
		}
		h := doc.Host
		switch h.Name {
		case "srv01.corp.example.com":
			if h.ID != "guid-srv01" || h.IP[0] != "10.0.0.1" || h.MAC[0] != "00-11-22-33-44-55" || h.OS.Ext.Variant != "Windows Server 2022 Datacenter" || h.Architecture != "x86_64" {
				t.Fatalf("local record %d: host %+v", recs[i].RecordID, h)
			}
		case "wks-042.corp.example.com":
			if h.ID != mapping.DeriveHostID("wks-042.corp.example.com") || h.IP != nil || h.MAC != nil || h.OS.Ext.Variant != "" || h.Architecture != "" {
				t.Fatalf("forwarded record %d got the collector's metadata: %+v", recs[i].RecordID, h)
			}
			if h.Hostname != "WKS-042" || h.OS.Type != "windows" {
				t.Fatalf("forwarded record %d lost its own host fields: %+v", recs[i].RecordID, h)
			}
		default:
			t.Fatalf("host.name %q", h.Name)
		}
		seen[h.Name]++
	}
	if seen["srv01.corp.example.com"] == 0 || seen["wks-042.corp.example.com"] == 0 {
		t.Fatalf("documents per host %v", seen)
	}
	if len(asked) == 0 || asked[0] != "srv01.corp.example.com" && asked[0] != "wks-042.corp.example.com" {
		t.Fatalf("HostMeta asked %v (want lower-cased Computer names)", asked)
	}
}

// BenchmarkMapHostMeta is BenchmarkMap's loop with the live host's
// metadata hook: the hook adds no allocation per document.
func BenchmarkMapHostMeta(b *testing.B) {
	recs := readRecords(&testing.T{}, "testdata/scenario.xml")
	local := &mapping.Host{ID: "guid-srv01", IP: []string{"10.0.0.1"}}
	for _, tc := range []struct {
		name string
		meta func(string) *mapping.Host
	}{
		{"static", nil},
		{"hook", func(name string) *mapping.Host {
			if name == "srv01.corp.example.com" {
				return local
			}
			return nil
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := mapping.New(tracker.New(tracker.Options{}), mapping.Options{Host: *local, HostMeta: tc.meta, Now: func() time.Time { return created }})
			var doc document.Document
			b.ReportAllocs()
			for b.Loop() {
				for i := range recs {
					_, _ = m.Map(&recs[i], &doc)
				}
			}
		})
	}
}
