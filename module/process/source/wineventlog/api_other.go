//go:build !windows

package wineventlog

// systemAPI is the event log of this system: there is none off Windows.
func systemAPI() (API, error) { return nil, ErrNotWindows }
