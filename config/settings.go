package config

import (
	"maps"
	"slices"
	"strings"
)

// settingErrors refuses settings that were accepted and then had no
// effect, or a wrong one: a key that needs another, a count outside what
// its consumer takes.
func (c *Config) settingErrors() []error {
	var errs []error
	e := c.Enrich
	if e.ImageRoot == "" {
		// Both describe the image; without one they were ignored.
		if len(e.Drives) > 0 {
			errs = append(errs, bad("enrich.drives", "maps drive letters into enrich.image_root, which is not set"))
		}
		if len(e.Hosts) > 0 {
			errs = append(errs, bad("enrich.hosts", "names the hosts enrich.image_root belongs to, and it is not set"))
		}
		// With an image root, winpath.NewImage checks the letters.
		for _, k := range slices.Sorted(maps.Keys(e.Drives)) {
			if !driveLetter(k) {
				errs = append(errs, bad("enrich.drives", "%q is not a drive letter", k))
			}
		}
	}
	// Beats' range: the rotator keeps at least the current and one older file.
	if k := c.Logging.Files.MaxBackups; k < 2 {
		errs = append(errs, bad("logging.files.keepfiles", "must be 2-1024, got %d", k))
	}
	t := c.Setup.Template
	if t.Shards < 0 {
		errs = append(errs, bad("setup.template.number_of_shards", "must be at least 1, or 0 for the cluster's default, got %d", t.Shards))
	}
	if t.Replicas != nil && *t.Replicas < 0 {
		errs = append(errs, bad("setup.template.number_of_replicas", "must not be negative, got %d", *t.Replicas))
	}
	return errs
}

// driveLetter is "D" or "D:".
func driveLetter(k string) bool {
	k = strings.TrimSuffix(strings.TrimSpace(k), ":")
	return len(k) == 1 && ('A' <= k[0]&^0x20 && k[0]&^0x20 <= 'Z')
}
