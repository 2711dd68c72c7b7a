package mapping_test

import (
	"testing"
	"time"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/winevent"
)

// fakeImages records what the mapper asks of the enricher.
type fakeImages struct {
	loads   []mapping.ImageLoad
	started []string
	starts  []time.Time
	parents []string
}

func (f *fakeImages) FillProcess(host string, start time.Time, p *document.Process) {
	f.started = append(f.started, p.Executable)
	f.starts = append(f.starts, start)
	p.PE.OriginalFileName = "from the file"
}
func (f *fakeImages) FillParent(host string, p *document.ProcessParent) {
	f.parents = append(f.parents, p.Executable)
}
func (f *fakeImages) ImageLoaded(host string, l mapping.ImageLoad) { f.loads = append(f.loads, l) }

func TestImagesHook(t *testing.T) {
	img := &fakeImages{}
	m := mapping.New(tracker.New(tracker.Options{}), mapping.Options{Images: img})
	// Image loads are decoded only for the enrichment.
	if !m.Wants(winevent.ProviderSysmon, 7) {
		t.Fatal("Sysmon 7 not wanted with enrichment")
	}
	if plain := mapping.New(tracker.New(tracker.Options{}), mapping.Options{}); plain.Wants(winevent.ProviderSysmon, 7) || mapping.Wants(winevent.ProviderSysmon, 7) {
		t.Fatal("Sysmon 7 decoded without enrichment")
	}
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	load := func(signed, sig, status string) *winevent.Record {
		return &winevent.Record{Provider: winevent.ProviderSysmon, EventID: 7, Computer: "WKS", TimeCreated: ts, Data: []winevent.Data{
			{Name: "Image", Value: `C:\Windows\System32\cmd.exe`}, {Name: "ImageLoaded", Value: `C:\Windows\System32\cmd.exe`},
			{Name: "Signed", Value: signed}, {Name: "Signature", Value: sig}, {Name: "SignatureStatus", Value: status},
		}}
	}
	dll := load("true", "Microsoft Windows", "Valid")
	dll.Data[1].Value = `C:\Windows\System32\kernel32.dll`
	var d document.Document
	for _, rec := range []*winevent.Record{load("true", "Microsoft Windows", "Valid"), load("false", "-", "Unavailable"), load("true", "X", "Expired"), load("-", "", ""), dll} {
		if k, err := m.Map(rec, &d); k != mapping.None || err != nil {
			t.Fatalf("image load mapped to %v, %v", k, err)
		}
	}
	want := []mapping.ImageLoad{
		{Image: `C:\Windows\System32\cmd.exe`, Signed: true, Trusted: true, SubjectName: "Microsoft Windows", Status: "trusted"},
		{Image: `C:\Windows\System32\cmd.exe`},
		{Image: `C:\Windows\System32\cmd.exe`, Signed: true, SubjectName: "X", Status: "errorExpired"},
	}
	if len(img.loads) != len(want) {
		t.Fatalf("loads %+v", img.loads)
	}
	for i := range want {
		if img.loads[i] != want[i] {
			t.Errorf("load %d: %+v, want %+v", i, img.loads[i], want[i])
		}
	}
	start := &winevent.Record{Provider: winevent.ProviderSysmon, EventID: 1, Computer: "WKS", TimeCreated: ts, Data: []winevent.Data{
		{Name: "UtcTime", Value: "2024-01-02 03:04:05.000"}, {Name: "ProcessId", Value: "10"}, {Name: "Image", Value: `C:\x.exe`},
		{Name: "ParentImage", Value: `C:\p.exe`}, {Name: "ParentProcessId", Value: "4"},
	}}
	if k, err := m.Map(start, &d); k != mapping.Start || err != nil {
		t.Fatal(k, err)
	}
	if len(img.started) != 1 || img.started[0] != `C:\x.exe` || !img.starts[0].Equal(ts) || img.parents[0] != `C:\p.exe` || d.Process.PE.OriginalFileName != "from the file" {
		t.Errorf("start: %+v %+v", img, d.Process.PE)
	}
}
