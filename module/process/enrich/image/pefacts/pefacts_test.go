package pefacts_test

import (
	"testing"

	"github.com/procbeat/procbeat/module/process/enrich/image/imagetest"
	"github.com/procbeat/procbeat/module/process/enrich/image/pefacts"
)

func TestReadVersionAndImphash(t *testing.T) {
	img := imagetest.BuildPE(t, imagetest.Version{OriginalFilename: "orig.exe", FileVersion: "9.8", ProductName: "P", CompanyName: "C", FileDescription: "D"})
	f, err := pefacts.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	if f.OriginalFileName != "orig.exe" || f.FileVersion != "9.8" || f.Product != "P" || f.Company != "C" || f.Description != "D" || len(f.Imphash) != 32 {
		t.Errorf("%+v", f)
	}
	for _, n := range []int{0, 64, 512, 4096, len(img) / 2} {
		if n < len(img) {
			if _, err := pefacts.Read(img[:n]); err == nil && n < 512 {
				t.Errorf("%d bytes read as an image", n)
			}
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte("MZ"))
	f.Add(imagetest.BuildPE(f, imagetest.Version{OriginalFilename: "seed.exe"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		pefacts.Read(data)
	})
}
