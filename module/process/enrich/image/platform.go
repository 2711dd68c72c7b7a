package image

import (
	"os"

	"github.com/procbeat/procbeat/module/process/enrich/image/authenticode"
)

// Verifier asks the operating system for its verdict on a file's embedded
// signature (WinVerifyTrust on Windows). decided is false when it has none
// to give (no embedded signature, unknown outcome): the pure-Go verdict
// stands then.
type Verifier func(f *os.File) (status string, decided bool)

// applyPlatform replaces the first embedded signature's verdict with the
// operating system's: it knows the machine's own roots, disallowed
// certificates and cached revocations.
func applyPlatform(v Verifier, f *os.File, sigs []authenticode.Signature) {
	if v == nil || len(sigs) == 0 {
		return
	}
	if status, ok := v(f); ok {
		sigs[0].Status = status
		sigs[0].Trusted = status == authenticode.StatusTrusted
	}
}
