package image_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/enrich/image"
	"github.com/procbeat/procbeat/module/process/enrich/image/authenticode"
	"github.com/procbeat/procbeat/module/process/enrich/image/filetimes"
	"github.com/procbeat/procbeat/module/process/enrich/image/imagetest"
	"github.com/procbeat/procbeat/module/process/enrich/image/winpath"
	"github.com/procbeat/procbeat/module/process/mapping"
)

type fixture struct {
	root                       string
	unsigned, signed, tampered []byte
	catMember, catalog         []byte
	vendor, system             *imagetest.CA
}

// built caches the images across tests: building takes seconds.
var built struct {
	sync.Mutex
	f *fixture
}

// newFixture lays out an image root: a signed, a tampered, an unsigned and
// a catalog-signed image, with directories in another case than the
// events' paths use.
func newFixture(t *testing.T) *fixture {
	imagetest.NeedOsslsigncode(t)
	built.Lock()
	defer built.Unlock()
	if built.f == nil {
		built.f = buildImages(t)
	}
	f := *built.f
	f.root = t.TempDir()
	return f.layOut(t)
}

func buildImages(t *testing.T) *fixture {
	f := &fixture{}
	f.vendor = imagetest.NewCA(t, "Procbeat Test Vendor")
	f.system = imagetest.NewCA(t, "Microsoft Windows")
	f.unsigned = imagetest.BuildPE(t, imagetest.Version{
		OriginalFilename: "Tiny.exe", FileVersion: "1.2.3.4 (test)", ProductName: "Procbeat Test",
		CompanyName: "Procbeat Authors", FileDescription: "tiny test program",
	})
	f.signed = f.vendor.Sign(t, f.unsigned)
	f.tampered = imagetest.Tamper(t, f.signed)
	f.catMember = imagetest.BuildPE(t, imagetest.Version{OriginalFilename: "Cmd.Exe", FileDescription: "Windows Command Processor", CompanyName: "Microsoft Corporation"})
	f.catalog = f.system.Catalog(t, [][]byte{f.catMember}, nil)
	return f
}

func (f *fixture) layOut(t *testing.T) *fixture {
	imagetest.Write(t, filepath.Join(f.root, "windows", "system32", "cmd.exe"), f.catMember)
	imagetest.Write(t, filepath.Join(f.root, "windows", "system32", "CatRoot", "{F750E6C3-38EE-11D1-85E5-00C04FC295EE}", "test.cat"),
		f.catalog)
	imagetest.Write(t, filepath.Join(f.root, "Program Files", "Vendor", "signed.exe"), f.signed)
	imagetest.Write(t, filepath.Join(f.root, "Users", "bob", "tampered.exe"), f.tampered)
	imagetest.Write(t, filepath.Join(f.root, "Users", "bob", "plain.exe"), f.unsigned)
	imagetest.Write(t, filepath.Join(f.root, "Users", "bob", "notes.txt"), []byte("not an image"))
	return f
}

func (f *fixture) enricher(t *testing.T, trusted bool) *image.Enricher {
	img, err := winpath.NewImage(f.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	opts := image.Options{Files: img, Budget: time.Minute}
	if trusted {
		opts.Roots = f.vendor.Pool()
		opts.Roots.AddCert(f.system.Root)
	}
	return image.New(opts)
}

func fill(e *image.Enricher, exe string) document.Process {
	var p document.Process
	p.Executable = exe
	e.FillProcess("host", time.Now(), &p)
	return p
}

func TestEnrichSignatures(t *testing.T) {
	f := newFixture(t)
	e := f.enricher(t, true)

	p := fill(e, `C:\Program Files\Vendor\signed.exe`)
	if cs := p.CodeSignature; !cs.Exists.Value || !cs.Trusted.Value || cs.Status != "trusted" || cs.SubjectName != "Procbeat Test Vendor" {
		t.Errorf("signed: %+v", cs)
	}
	thumb := sha256.Sum256(f.vendor.Leaf.Raw)
	if p.CodeSignature.ThumbprintSHA256 != hex.EncodeToString(thumb[:]) || len(p.Ext.CodeSignature) != 1 || p.Ext.CodeSignature[0].SubjectName != "Procbeat Test Vendor" {
		t.Errorf("signed: thumbprint %s, Ext %+v", p.CodeSignature.ThumbprintSHA256, p.Ext.CodeSignature)
	}
	sum := sha256.Sum256(f.signed)
	if p.Hash.SHA256 != hex.EncodeToString(sum[:]) || len(p.Hash.MD5) != 32 || len(p.Hash.SHA1) != 40 {
		t.Errorf("hashes %+v", p.Hash)
	}
	if p.PE.OriginalFileName != "Tiny.exe" || p.PE.FileVersion != "1.2.3.4 (test)" || p.PE.Product != "Procbeat Test" ||
		p.PE.Company != "Procbeat Authors" || p.PE.Description != "tiny test program" || len(p.PE.Imphash) != 32 {
		t.Errorf("pe %+v", p.PE)
	}

	p = fill(e, `C:\Users\bob\tampered.exe`)
	if cs := p.CodeSignature; !cs.Exists.Value || cs.Trusted.Value || cs.Status != authenticode.StatusBadDigest || cs.SubjectName != "Procbeat Test Vendor" {
		t.Errorf("tampered: %+v", cs)
	}

	p = fill(e, `C:\Users\bob\plain.exe`)
	if cs := p.CodeSignature; !cs.Exists.Valid || cs.Exists.Value || cs.Trusted.Valid || cs.Status != "" || len(p.Ext.CodeSignature) != 0 {
		t.Errorf("unsigned: %+v", cs)
	}
	if p.PE.OriginalFileName != "Tiny.exe" {
		t.Errorf("unsigned pe %+v", p.PE)
	}

	// Signed only through the catalog; directories differ in case.
	p = fill(e, `c:\WINDOWS\System32\CMD.EXE`)
	if cs := p.CodeSignature; !cs.Exists.Value || !cs.Trusted.Value || cs.Status != "trusted" || cs.SubjectName != "Microsoft Windows" {
		t.Errorf("catalog: %+v", cs)
	}
	if p.PE.OriginalFileName != "Cmd.Exe" {
		t.Errorf("catalog pe %+v", p.PE)
	}

	p = fill(e, `C:\Users\bob\notes.txt`)
	if p.Hash.SHA256 == "" || p.CodeSignature.Exists.Valid || p.PE.OriginalFileName != "" {
		t.Errorf("text file: %+v", p)
	}

	var parent document.ProcessParent
	parent.Executable = `C:\Windows\System32\cmd.exe`
	e.FillParent("host", &parent)
	if cs := parent.CodeSignature; !cs.Trusted.Value || cs.SubjectName != "Microsoft Windows" || len(parent.Ext.CodeSignature) != 1 {
		t.Errorf("parent: %+v", parent)
	}

	st := e.Stats()
	if got := st.Reads.Load(); got != 5 {
		t.Errorf("reads %d, want 5 (each file once)", got)
	}
	if st.CatalogFiles.Load() != 1 || st.NotPE.Load() != 1 {
		t.Errorf("catalogs %d, not PE %d", st.CatalogFiles.Load(), st.NotPE.Load())
	}
}

func TestEnrichUntrustedRoots(t *testing.T) {
	f := newFixture(t)
	e := f.enricher(t, false)
	for _, exe := range []string{`C:\Program Files\Vendor\signed.exe`, `C:\Windows\System32\cmd.exe`} {
		p := fill(e, exe)
		if cs := p.CodeSignature; !cs.Exists.Value || cs.Trusted.Value || cs.Status != authenticode.StatusUntrustedRoot {
			t.Errorf("%s: %+v", exe, cs)
		}
	}
}

func TestEnrichKeepsEventValues(t *testing.T) {
	f := newFixture(t)
	e := f.enricher(t, true)
	var p document.Process
	p.Executable = `C:\Program Files\Vendor\signed.exe`
	p.Hash.SHA256 = "from-the-event"
	p.PE.OriginalFileName = "FromSysmon.exe"
	p.CodeSignature.Exists = document.BoolOf(true)
	p.CodeSignature.SubjectName = "Sysmon says"
	e.FillProcess("host", time.Now(), &p)
	if p.Hash.SHA256 != "from-the-event" || p.PE.OriginalFileName != "FromSysmon.exe" || p.CodeSignature.SubjectName != "Sysmon says" {
		t.Errorf("event values overwritten: %+v", p)
	}
	if p.Hash.MD5 == "" || p.PE.Company != "Procbeat Authors" {
		t.Errorf("missing values not filled: %+v", p)
	}
}

func TestEnrichRereadsChangedFile(t *testing.T) {
	f := newFixture(t)
	img, err := winpath.NewImage(f.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	e := image.New(image.Options{Files: img, Roots: f.vendor.Pool(), Revalidate: 2 * time.Second})
	path := filepath.Join(f.root, "Users", "bob", "plain.exe")
	before := fill(e, `C:\Users\bob\plain.exe`)
	if before.CodeSignature.Exists.Value {
		t.Fatal("plain.exe signed")
	}
	if err := os.WriteFile(path, f.signed, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	os.Chtimes(path, later, later)
	if p := fill(e, `C:\Users\bob\plain.exe`); p.Hash.SHA256 != before.Hash.SHA256 {
		t.Error("file looked at again before the revalidation period")
	}
	time.Sleep(2100 * time.Millisecond)
	after := fill(e, `C:\Users\bob\plain.exe`)
	if !after.CodeSignature.Trusted.Value || after.Hash.SHA256 == before.Hash.SHA256 {
		t.Errorf("changed file not read again: %+v", after.CodeSignature)
	}
}

func TestEnrichReadsOnceConcurrently(t *testing.T) {
	f := newFixture(t)
	e := f.enricher(t, true)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p := fill(e, `C:\Program Files\Vendor\signed.exe`); !p.CodeSignature.Trusted.Value {
				t.Error("not trusted")
			}
		}()
	}
	wg.Wait()
	if n := e.Stats().Reads.Load(); n != 1 {
		t.Errorf("read %d times", n)
	}
}

func TestEnrichLimits(t *testing.T) {
	f := newFixture(t)
	img, err := winpath.NewImage(f.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	e := image.New(image.Options{Files: img, MaxFileSize: 1024, Hosts: []string{"WKS1"}})
	if p := fill(e, `C:\Users\bob\plain.exe`); p.Hash.SHA256 != "" {
		t.Error("enriched an event of another host")
	}
	var p document.Process
	p.Executable = `C:\Users\bob\plain.exe`
	e.FillProcess("wks1.corp.example", time.Now(), &p)
	if p.Hash.SHA256 != "" || e.Stats().TooLarge.Load() != 1 {
		t.Errorf("large file: %+v, too large %d", p.Hash, e.Stats().TooLarge.Load())
	}
	p = document.Process{Executable: `C:\Users\bob\..\..\..\etc\passwd`}
	e.FillProcess("wks1", time.Now(), &p)
	p = document.Process{Executable: `C:\nothing\here.exe`}
	e.FillProcess("wks1", time.Now(), &p)
	p = document.Process{Executable: `\Device\HarddiskVolume3\x.exe`}
	e.FillProcess("wks1", time.Now(), &p)
	if st := e.Stats(); st.Refused.Load() != 1 || st.Missing.Load() != 1 || st.Unmapped.Load() != 1 || st.Unreadable.Load() != 0 {
		t.Errorf("refused %d missing %d unmapped %d unreadable %d", st.Refused.Load(), st.Missing.Load(), st.Unmapped.Load(), st.Unreadable.Load())
	}
}

// slowOpener hands out files and blocks their reading: the document must
// not wait beyond the budget.
func TestEnrichBudget(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "slow.exe")
	if err := os.WriteFile(fifo, []byte(strings.Repeat("x", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := winpath.NewImage(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	e := image.New(image.Options{Files: img, Budget: time.Nanosecond, Readers: 1})
	start := time.Now()
	// With a budget of a nanosecond the first lookup cannot wait for the
	// read; the read finishes in the background and the next one is a hit.
	fill(e, `C:\slow.exe`)
	if time.Since(start) > time.Second {
		t.Error("waited past the budget")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if p := fill(e, `C:\slow.exe`); p.Hash.SHA256 != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("background read never published")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEnrichFileTimesFromTimeline(t *testing.T) {
	body := "0|C:/Users/bob/plain.exe|1-128-1|r/rrwxrwxrwx|0|0|1|0|1600000000|0|1500000000\n" +
		"0|C:/Users/bob/plain.exe ($FILE_NAME)|1-48-2|r/rrwxrwxrwx|0|0|1|0|1550000000|0|1500000000\n" +
		"0|C:/Gone/away.exe|2-128-1|r/rrwxrwxrwx|0|0|1|0|1600000000|0|1400000000\n"
	ix, err := filetimes.Read(strings.NewReader(body), 10)
	if err != nil {
		t.Fatal(err)
	}
	img, err := winpath.NewImage(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	e := image.New(image.Options{Files: img, Times: ix})
	start := time.Unix(1500000100, 0)
	// The file itself is gone: the timeline still tells its times.
	p := document.Process{Executable: `c:\gone\AWAY.exe`}
	e.FillProcess("h", start, &p)
	if p.Ext.RelativeFileCreationTime != document.DoubleOf(100000100) || p.Ext.RelativeFileNameModifyTime.Valid {
		t.Errorf("away.exe: %+v %+v", p.Ext.RelativeFileCreationTime, p.Ext.RelativeFileNameModifyTime)
	}
	p = document.Process{Executable: `C:\Users\bob\plain.exe`}
	e.FillProcess("h", start, &p)
	if p.Ext.RelativeFileCreationTime != document.DoubleOf(100) || p.Ext.RelativeFileNameModifyTime != document.DoubleOf(-49999900) {
		t.Errorf("plain.exe: %+v %+v", p.Ext.RelativeFileCreationTime, p.Ext.RelativeFileNameModifyTime)
	}
	// An end document (no start time) gets none.
	p = document.Process{Executable: `C:\Users\bob\plain.exe`}
	e.FillProcess("h", time.Time{}, &p)
	if p.Ext.RelativeFileCreationTime.Valid {
		t.Error("relative time without a start")
	}
}

func TestEnrichPrefersSysmonImageLoads(t *testing.T) {
	f := newFixture(t)
	e := f.enricher(t, true)
	// Sysmon saw the tampered image load as signed and valid (say, before
	// it was altered): its report wins and the file is not needed for it.
	e.ImageLoaded("WKS1", mapping.ImageLoad{Image: `C:\Users\bob\TAMPERED.exe`, Signed: true, Trusted: true, SubjectName: "Sysmon Signer", Status: "trusted"})
	e.ImageLoaded("wks1", mapping.ImageLoad{Image: `C:\Tools\gone.exe`, Signed: false})
	var p document.Process
	p.Executable = `C:\Users\bob\tampered.exe`
	e.FillProcess("wks1", time.Now(), &p)
	if cs := p.CodeSignature; !cs.Trusted.Value || cs.SubjectName != "Sysmon Signer" || p.Hash.SHA256 == "" {
		t.Errorf("%+v", p)
	}
	var parent document.ProcessParent
	parent.Executable = `C:\Tools\gone.exe`
	e.FillParent("WKS1", &parent)
	if cs := parent.CodeSignature; !cs.Exists.Valid || cs.Exists.Value || cs.Trusted.Valid {
		t.Errorf("%+v", cs)
	}
	// Another host's report does not apply.
	p = document.Process{Executable: `C:\Users\bob\tampered.exe`}
	e.FillProcess("other", time.Now(), &p)
	if p.CodeSignature.Trusted.Value {
		t.Error("report of another host used")
	}
}

// BenchmarkFillProcessCached is the per-document cost once a file is
// cached: open, fstat and close of the file, a map lookup, field copies.
func BenchmarkFillProcessCached(b *testing.B) {
	root := b.TempDir()
	imagetest.Write(b, filepath.Join(root, "Windows", "x.exe"), imagetest.BuildPE(b, imagetest.Version{OriginalFilename: "x.exe"}))
	img, err := winpath.NewImage(root, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer img.Close()
	e := image.New(image.Options{Files: img})
	start := time.Now()
	var p document.Process
	b.ReportAllocs()
	for b.Loop() {
		p = document.Process{Executable: `C:\Windows\x.exe`}
		e.FillProcess("h", start, &p)
	}
	if p.PE.OriginalFileName != "x.exe" {
		b.Fatal(p.PE)
	}
}

func TestEnrichPlatformVerdict(t *testing.T) {
	f := newFixture(t)
	img, err := winpath.NewImage(f.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var asked []string
	verdict := func(file *os.File) (string, bool) {
		asked = append(asked, filepath.Base(file.Name()))
		if filepath.Base(file.Name()) == "signed.exe" {
			return authenticode.StatusRevoked, true
		}
		return "", false
	}
	e := image.New(image.Options{Files: img, Roots: f.vendor.Pool(), Platform: verdict, Readers: 1})
	if cs := fill(e, `C:\Program Files\Vendor\signed.exe`).CodeSignature; cs.Trusted.Value || cs.Status != authenticode.StatusRevoked || cs.SubjectName != "Procbeat Test Vendor" {
		t.Errorf("revoked by the platform: %+v", cs)
	}
	if cs := fill(e, `C:\Users\bob\tampered.exe`).CodeSignature; cs.Status != authenticode.StatusBadDigest {
		t.Errorf("platform undecided: %+v", cs)
	}
	fill(e, `C:\Users\bob\plain.exe`) // unsigned: the platform is not asked
	if strings.Join(asked, ",") != "signed.exe,tampered.exe" {
		t.Errorf("platform asked for %v", asked)
	}
}
