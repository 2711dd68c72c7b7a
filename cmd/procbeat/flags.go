package main

import libconfig "github.com/elastic/elastic-agent-libs/config"

// recordedSettings is the -E flag: each value goes into libconfig's
// settings and is kept as given in args, for a command line that passes
// the flags on (the service's, built by service install).
type recordedSettings struct {
	*libconfig.SettingsFlag
	args *[]string
}

func (r recordedSettings) Set(s string) error {
	if err := r.SettingsFlag.Set(s); err != nil {
		return err
	}
	*r.args = append(*r.args, s)
	return nil
}
