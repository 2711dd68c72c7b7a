//go:build windows

package image

import (
	"os"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/procbeat/procbeat/module/process/enrich/image/authenticode"
)

func TestTrustStatus(t *testing.T) {
	for err, want := range map[error]string{
		nil: authenticode.StatusTrusted,
		windows.Errno(windows.TRUST_E_BAD_DIGEST):   authenticode.StatusBadDigest,
		windows.Errno(windows.CERT_E_UNTRUSTEDROOT): authenticode.StatusUntrustedRoot,
		windows.Errno(windows.CERT_E_EXPIRED):       authenticode.StatusExpired,
	} {
		if got, ok := trustStatus(err); !ok || got != want {
			t.Errorf("%v: %q %v", err, got, ok)
		}
	}
	if _, ok := trustStatus(windows.Errno(windows.TRUST_E_NOSIGNATURE)); ok {
		t.Error("no signature decided")
	}
}

// TestWinVerifyTrustUnsigned: the test binary itself is unsigned, so
// Windows has no verdict and the pure-Go one stands.
func TestWinVerifyTrustUnsigned(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s, ok := winVerifyTrust(f); ok {
		t.Errorf("unsigned test binary: %q", s)
	}
}
