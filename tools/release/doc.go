// Package release tests the release archives that `mage package`
// (magefile_package.go) builds: it holds no code of its own, only the test
// that unpacks an archive and runs the binary from it as a user would.
package release
