package main

import (
	"errors"
	"fmt"

	libconfig "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/monitoring"
)

// errNoAgent is what a default build says of management.enabled.
var errNoAgent = errors.New("management.enabled: this procbeat was built without Elastic Agent support; use the agent build (go build -tags agent), which links the Elastic-licensed elastic-agent-client")

// runChecks are the refusals of `procbeat run` that depend on more than
// the values (beater.Check): the build and the system. `test config`
// makes them too, so that it never says Config OK for a configuration run
// refuses (inputsCheck aside); goos is runtime.GOOS.
func runChecks(cfg config.Config, goos string) error {
	if cfg.Management.Enabled {
		if !agentBuild {
			return errNoAgent
		}
		// Elastic Agent sends the inputs.
		return nil
	}
	var errs []error
	for i, in := range cfg.Procbeat.Inputs {
		if in.Enabled && in.Type == beater.LiveInput && goos != "windows" {
			errs = append(errs, fmt.Errorf("procbeat.inputs.%d.type: wineventlog inputs read live Windows event log channels and run only on Windows", i))
		}
	}
	return errors.Join(errs...)
}

// inputsCheck is run's refusal of a configuration without inputs. It is
// apart from runChecks because replay and export coverage read the files
// on their command line and need none: `test config` names it without
// failing such a configuration.
func inputsCheck(cfg config.Config) error {
	if cfg.Management.Enabled {
		return nil // Elastic Agent sends the inputs
	}
	for _, in := range cfg.Procbeat.Inputs {
		if in.Enabled {
			return nil
		}
	}
	return errors.New("procbeat.inputs: no input is enabled, so procbeat run has nothing to read")
}

// batchChecks are the refusals of the batch jobs (replay, export
// coverage): Elastic Agent manages only procbeat run, so
// management.enabled there was accepted and ignored.
func batchChecks(cfg config.Config) error {
	if cfg.Management.Enabled {
		return errors.New("management.enabled: Elastic Agent manages procbeat run only; replay and export coverage read the files on their command line (set management.enabled: false, or leave it out, for them)")
	}
	return nil
}

// warnForegroundLogging says, for replay and export coverage, which log to
// stderr whatever logging.to_stderr and logging.to_files say, that those
// settings are not used: they were silently overridden.
func warnForegroundLogging(raw *libconfig.C, log monitoring.Logger) {
	logging, err := raw.Child("logging", -1)
	if err != nil {
		return // no logging section
	}
	for _, key := range []string{"to_stderr", "to_files"} {
		if logging.HasField(key) {
			log.Warnf("logging.%s is not used here: replay and export coverage log to stderr, as -e does (procbeat run follows it)", key)
		}
	}
}

// loadBatch is loadWithLogger for replay and export coverage, with their
// refusals and warnings.
func (g *globals) loadBatch(cmd *cobra.Command) (config.Config, *logp.Logger, func() error, error) {
	cfg, log, closeLog, err := g.loadWithLogger(cmd, true)
	if err != nil {
		return config.Config{}, nil, nil, err
	}
	if err := batchChecks(cfg); err != nil {
		closeLog()
		return config.Config{}, nil, nil, err
	}
	// Read again (the file and -E, no keystore): only which keys are set
	// matters, and the decoded values cannot say it.
	if raw, err := g.raw(cmd); err == nil {
		warnForegroundLogging(raw, log)
	}
	return cfg, log, closeLog, nil
}
