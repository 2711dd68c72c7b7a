//go:build !agent

package main

import (
	"github.com/spf13/cobra"
)

// agentBuild says this binary cannot run under Elastic Agent: the default
// build links no Elastic-licensed code.
const agentBuild = false

func runManaged(*cobra.Command, *globals) error {
	return errNoAgent
}
