package config

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// procbeat.host.ip and procbeat.host.mac go into host.ip (mapped ip) and
// host.mac of documents as they are: an address Elasticsearch's ip type
// rejects made every document a dead letter, and MACs were kept as typed
// where ECS and Elastic Defend write them in RFC 7042's form.

// normalMACs writes every MAC it can parse as ECS asks (RFC 7042: upper-case
// hexadecimal octets separated by hyphens, "AA-BB-CC-DD-EE-0F"), whatever
// separator it was given with; what it cannot parse is left for
// hostAddressErrors to refuse.
func normalMACs(macs []string) []string {
	for i, s := range macs {
		if hw, err := net.ParseMAC(strings.TrimSpace(s)); err == nil {
			macs[i] = rfc7042(hw)
		}
	}
	return macs
}

func rfc7042(hw net.HardwareAddr) string {
	var b strings.Builder
	for i, o := range hw {
		if i > 0 {
			b.WriteByte('-')
		}
		fmt.Fprintf(&b, "%02X", o)
	}
	return b.String()
}

// hostAddressErrors refuses, naming the key, an IP that is not one (or has
// a zone, "fe80::1%eth0", which Elasticsearch's ip type rejects) and a MAC
// that is not one.
func (h Host) hostAddressErrors() []error {
	var errs []error
	for i, s := range h.IP {
		key := fmt.Sprintf("procbeat.host.ip.%d", i)
		switch a, err := netip.ParseAddr(s); {
		case err != nil:
			errs = append(errs, bad(key, "%q is not an IP address", s))
		case a.Zone() != "":
			errs = append(errs, bad(key, "%q has a zone (%%%s), which Elasticsearch's ip type refuses: give the address alone", s, a.Zone()))
		}
	}
	for i, s := range h.MAC {
		if _, err := net.ParseMAC(s); err != nil {
			errs = append(errs, bad(fmt.Sprintf("procbeat.host.mac.%d", i), "%q is not a MAC address (want e.g. AA-BB-CC-DD-EE-0F)", s))
		}
	}
	return errs
}
