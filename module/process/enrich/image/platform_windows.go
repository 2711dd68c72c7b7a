//go:build windows

package image

import (
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/procbeat/procbeat/module/process/enrich/image/authenticode"
)

// PlatformVerifier is WinVerifyTrust on a live Windows host.
func PlatformVerifier() Verifier { return winVerifyTrust }

// winVerifyTrust verifies f's embedded signature with the generic
// Authenticode policy, without network retrieval or revocation checks (an
// event path must not wait on the network).
func winVerifyTrust(f *os.File) (string, bool) {
	path, err := windows.UTF16PtrFromString(f.Name())
	if err != nil {
		return "", false
	}
	file := windows.WinTrustFileInfo{FilePath: path, File: windows.Handle(f.Fd())}
	file.Size = uint32(unsafe.Sizeof(file))
	data := windows.WinTrustData{
		UIChoice:                        windows.WTD_UI_NONE,
		RevocationChecks:                windows.WTD_REVOKE_NONE,
		UnionChoice:                     windows.WTD_CHOICE_FILE,
		StateAction:                     windows.WTD_STATEACTION_VERIFY,
		FileOrCatalogOrBlobOrSgnrOrCert: unsafe.Pointer(&file),
		ProvFlags:                       windows.WTD_CACHE_ONLY_URL_RETRIEVAL | windows.WTD_REVOCATION_CHECK_NONE,
	}
	data.Size = uint32(unsafe.Sizeof(data))
	verr := windows.WinVerifyTrustEx(windows.InvalidHWND, &windows.WINTRUST_ACTION_GENERIC_VERIFY_V2, &data)
	data.StateAction = windows.WTD_STATEACTION_CLOSE
	_ = windows.WinVerifyTrustEx(windows.InvalidHWND, &windows.WINTRUST_ACTION_GENERIC_VERIFY_V2, &data)
	return trustStatus(verr)
}

// trustStatus maps WinVerifyTrust's result to code_signature.status.
func trustStatus(err error) (string, bool) {
	if err == nil {
		return authenticode.StatusTrusted, true
	}
	var errno windows.Errno
	if !errors.As(err, &errno) {
		return "", false
	}
	switch windows.Handle(errno) {
	case windows.TRUST_E_BAD_DIGEST:
		return authenticode.StatusBadDigest, true
	case windows.CERT_E_UNTRUSTEDROOT:
		return authenticode.StatusUntrustedRoot, true
	case windows.CERT_E_CHAINING:
		return authenticode.StatusChaining, true
	case windows.CERT_E_EXPIRED:
		return authenticode.StatusExpired, true
	case windows.CERT_E_REVOKED:
		return authenticode.StatusRevoked, true
	}
	return "", false
}
