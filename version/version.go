// Package version says which procbeat this is.
package version

// Version is procbeat's release version; it also goes into agent.version.
const Version = "0.1.0"

// ECS is the ECS version procbeat's documents follow.
const ECS = "8.11.0"

// Commit and BuildDate describe the build. They are variables only so that
// the linker can stamp them (`mage package` passes -ldflags -X); a plain
// `go build` leaves them empty and nothing else writes them.
var (
	Commit    string // git commit the binary was built from
	BuildDate string // RFC 3339 UTC time of the build
)
