//go:build !windows

package image

// PlatformVerifier is nil off Windows: the pure-Go verdict is the only one.
func PlatformVerifier() Verifier { return nil }
