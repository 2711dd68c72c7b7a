package authenticode_test

import (
	"os/exec"
	"testing"

	"github.com/procbeat/procbeat/module/process/enrich/image/authenticode"
	"github.com/procbeat/procbeat/module/process/enrich/image/imagetest"
)

func verify(data []byte) ([]authenticode.Signature, error) {
	l, err := authenticode.ParseLayout(data)
	if err != nil {
		return nil, err
	}
	return authenticode.VerifyEmbedded(data, l, authenticode.ImageDigests(data, l), nil)
}

// FuzzVerifySigned mutates a really signed image (when osslsigncode is
// there to sign the seed): signatures, certificates and headers.
func FuzzVerifySigned(f *testing.F) {
	if _, err := exec.LookPath("osslsigncode"); err == nil {
		ca := imagetest.NewCA(f, "Fuzz Vendor")
		f.Add(ca.Sign(f, imagetest.BuildPE(f, imagetest.Version{OriginalFilename: "fuzz.exe"})))
	}
	f.Add([]byte("MZ"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sigs, _ := verify(data)
		for _, s := range sigs {
			if s.Trusted {
				t.Fatal("trusted without roots")
			}
		}
	})
}

func TestVerifySignedWithoutRoots(t *testing.T) {
	imagetest.NeedOsslsigncode(t)
	ca := imagetest.NewCA(t, "Vendor")
	sigs, err := verify(ca.Sign(t, imagetest.BuildPE(t, imagetest.Version{})))
	if err != nil || len(sigs) != 1 || sigs[0].Trusted || sigs[0].Status != authenticode.StatusUntrustedRoot || sigs[0].SubjectName != "Vendor" {
		t.Fatalf("%+v %v", sigs, err)
	}
}
