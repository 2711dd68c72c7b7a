//go:build !agent

package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// agentBuild says this binary cannot run under Elastic Agent: the default
// build links no Elastic-licensed code.
const agentBuild = false

func runManaged(*cobra.Command, *globals) error {
	return errors.New("management.enabled: this procbeat was built without Elastic Agent support; use the agent build (go build -tags agent), which links the Elastic-licensed elastic-agent-client")
}
