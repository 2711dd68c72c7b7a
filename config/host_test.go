package config_test

import (
	"slices"
	"strings"
	"testing"
)

// TestHostAddresses: procbeat.host.ip refuses what Elasticsearch's ip type
// would (a non-address, a zone id) naming the key, and procbeat.host.mac
// is written in RFC 7042's form (upper case, hyphens) as ECS and Defend
// write it, whatever notation it was given in, or refused when not a MAC.
func TestHostAddresses(t *testing.T) {
	cfg, err := load(t, "procbeat.host:\n  ip: [10.0.0.1, \"2001:db8::1\", \"::ffff:10.1.2.3\"]\n  mac: [aa:bb:cc:dd:ee:0f, 00-11-22-33-44-55, 0a1b.2c3d.4e5f]\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"AA-BB-CC-DD-EE-0F", "00-11-22-33-44-55", "0A-1B-2C-3D-4E-5F"}; !slices.Equal(cfg.Procbeat.Host.MAC, want) {
		t.Errorf("mac %q, want %q", cfg.Procbeat.Host.MAC, want)
	}
	for _, tc := range []struct{ yml, want string }{
		{"procbeat.host.ip: [10.0.0.1, 999.1.1.1]\n", `procbeat.host.ip.1: "999.1.1.1" is not an IP address`},
		{"procbeat.host.ip: [\"fe80::1%eth0\"]\n", `procbeat.host.ip.0: "fe80::1%eth0" has a zone`},
		{"procbeat.host.ip: [wks-042]\n", `procbeat.host.ip.0: "wks-042" is not an IP address`},
		{"procbeat.host.mac: [zz]\n", `procbeat.host.mac.0: "zz" is not a MAC address`},
		{"procbeat.host.mac: [aa:bb:cc:dd:ee]\n", `procbeat.host.mac.0: "aa:bb:cc:dd:ee" is not a MAC address`},
	} {
		if _, err := load(t, tc.yml); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.yml, err, tc.want)
		}
	}
}
