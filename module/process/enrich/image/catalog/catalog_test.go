package catalog_test

import (
	"bytes"
	"testing"
	"testing/fstest"

	"github.com/procbeat/procbeat/module/process/enrich/image/authenticode"
	"github.com/procbeat/procbeat/module/process/enrich/image/catalog"
	"github.com/procbeat/procbeat/module/process/enrich/image/imagetest"
)

func TestCatalogMembersAndSigner(t *testing.T) {
	ca := imagetest.NewCA(t, "Microsoft Windows")
	a := imagetest.BuildPE(t, imagetest.Version{OriginalFilename: "a.exe"})
	b := imagetest.BuildPE(t, imagetest.Version{OriginalFilename: "b.exe"})
	other := imagetest.BuildPE(t, imagetest.Version{OriginalFilename: "other.exe"})
	der := ca.Catalog(t, [][]byte{a}, [][]byte{b})
	c, err := catalog.Parse(der, ca.Pool())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Members) != 2 || !c.Signer.Trusted || c.Signer.SubjectName != "Microsoft Windows" {
		t.Fatalf("catalog %+v", c)
	}
	fsys := fstest.MapFS{
		"{F750E6C3-38EE-11D1-85E5-00C04FC295EE}/x.cat":      {Data: der},
		"{F750E6C3-38EE-11D1-85E5-00C04FC295EE}/broken.CAT": {Data: der[:100]},
		"readme.txt": {Data: []byte("x")},
	}
	ix, err := catalog.Load(fsys, ".", ca.Pool(), 1<<20)
	if err != nil || ix.Files != 1 || ix.Errors != 1 {
		t.Fatalf("load: %v files %d errors %d", err, ix.Files, ix.Errors)
	}
	digests := func(img []byte) authenticode.Digests {
		l, err := authenticode.ParseLayout(img)
		if err != nil {
			t.Fatal(err)
		}
		return authenticode.ImageDigests(img, l)
	}
	for name, img := range map[string][]byte{"sha256 member": a, "sha1 member": b} {
		if s, ok := ix.Lookup(digests(img)); !ok || !s.Trusted {
			t.Errorf("%s: %v %v", name, s, ok)
		}
	}
	if _, ok := ix.Lookup(digests(other)); ok {
		t.Error("non-member found")
	}
	if _, err := catalog.Load(fsys, ".", ca.Pool(), 10); err == nil {
		t.Error("catalog budget not enforced")
	}

	// Untrusted root, and a catalog altered after signing.
	if c, _ := catalog.Parse(der, nil); c.Signer.Trusted || c.Signer.Status != authenticode.StatusUntrustedRoot {
		t.Errorf("untrusted: %+v", c.Signer)
	}
	i := bytes.Index(der, digests(a).SHA256)
	bad := append([]byte(nil), der...)
	bad[i] ^= 1
	if c, err := catalog.Parse(bad, ca.Pool()); err != nil || c.Signer.Trusted || c.Signer.Status != authenticode.StatusBadDigest {
		t.Errorf("altered: %+v %v", c.Signer, err)
	}
}

func FuzzMembers(f *testing.F) {
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{0x30, 0x0a, 0x30, 0x00, 0x17, 0x00, 0x30, 0x00, 0x30, 0x02, 0x30, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, _ := catalog.Members(data)
		total := 0
		for _, m := range ms {
			total += len(m)
		}
		if total > len(data) {
			t.Fatalf("%d member bytes from %d input bytes", total, len(data))
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte{0x30, 0x00})
	ca := imagetest.NewCA(f, "Fuzz")
	f.Add(ca.Catalog(f, [][]byte{imagetest.BuildPE(f, imagetest.Version{})}, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		if c, err := catalog.Parse(data, nil); err == nil && c.Signer.Trusted {
			t.Fatal("trusted without roots")
		}
	})
}
