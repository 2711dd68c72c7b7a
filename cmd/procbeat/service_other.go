//go:build !windows

package main

import "github.com/spf13/cobra"

func newServiceControl() (serviceControl, error) { return nil, errNotWindows }

// runService is main's hook for the service control manager: there is none
// off Windows.
func runService(func() *cobra.Command) (bool, error) { return false, nil }
