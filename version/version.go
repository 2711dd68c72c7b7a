// Package version says which procbeat this is.
package version

// Version is procbeat's release version; it also goes into agent.version.
const Version = "0.1.0"

// ECS is the ECS version procbeat's documents follow.
const ECS = "8.11.0"
