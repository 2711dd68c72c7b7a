// Package hostmeta supplies the metadata of the host procbeat runs on
// (host.id, host.os.*, host.architecture, host.ip, host.mac) to the mapping,
// for the records that host logged itself, and refreshes it periodically
// (addresses change, the OS is updated).
//
// Records of other hosts get none: on a Windows Event Forwarding collector
// most records come from elsewhere, and the collector's addresses on them
// would be wrong. A record is the local host's when its Computer names this
// host (its DNS name, or its short name).
//
// The facts come from github.com/elastic/go-sysinfo; turning them into
// document values and deciding which records they belong to is plain code,
// tested on any OS with made-up facts.
package hostmeta

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/elastic/go-sysinfo"

	"github.com/procbeat/procbeat/module/process/mapping"
	"github.com/procbeat/procbeat/monitoring"
)

// DefaultRefresh is how often the facts are read again by default.
const DefaultRefresh = 10 * time.Minute

// Facts are what the system says about itself.
type Facts struct {
	ID           string // machine id (Windows: MachineGuid)
	Hostname     string // the computer's name
	FQDN         string // its DNS name, when known
	Architecture string
	Kernel       string
	OSName       string // product name, e.g. Windows Server 2022 Datacenter
	OSVersion    string // e.g. 10.0
	OSBuild      string // e.g. 20348.2340
	IPs          []string
	MACs         []string
}

// Options configure a Provider.
type Options struct {
	// Load reads the facts; nil is go-sysinfo.
	Load func(ctx context.Context) (Facts, error)
	// Static holds configured values (procbeat.host); each one set wins
	// over what Load finds.
	Static mapping.Host
	Logger monitoring.Logger
}

// Provider answers the mapping's question "what is known of the host that
// logged this record". Lookup is safe for concurrent use and allocates
// nothing.
type Provider struct {
	load   func(context.Context) (Facts, error)
	static mapping.Host
	log    monitoring.Logger
	cur    atomic.Pointer[snapshot]
}

type snapshot struct {
	short, fqdn string // lower case
	host        mapping.Host
}

// New reads the facts once. When that fails the Provider still answers
// with the configured values only, and Run keeps trying.
func New(ctx context.Context, o Options) *Provider {
	if o.Load == nil {
		o.Load = Sysinfo
	}
	if o.Logger == nil {
		o.Logger = monitoring.NopLogger{}
	}
	p := &Provider{load: o.Load, static: o.Static, log: o.Logger}
	p.cur.Store(&snapshot{host: o.Static})
	if err := p.Refresh(ctx); err != nil {
		p.log.Warnf("host metadata: %v (documents get the configured procbeat.host values only until it can be read)", err)
	}
	return p
}

// Refresh reads the facts again.
func (p *Provider) Refresh(ctx context.Context) error {
	f, err := p.load(ctx)
	if err != nil {
		return err
	}
	s := &snapshot{short: strings.ToLower(f.Hostname), fqdn: strings.ToLower(strings.TrimSuffix(f.FQDN, ".")), host: HostOf(f, p.static)}
	if s.short == "" {
		s.short, _, _ = strings.Cut(s.fqdn, ".")
	}
	p.cur.Store(s)
	return nil
}

// ID is this host's machine id as last read ("" when unknown).
func (p *Provider) ID() string { return p.cur.Load().host.ID }

// Run refreshes every period until ctx ends.
func (p *Provider) Run(ctx context.Context, period time.Duration) {
	if period <= 0 {
		period = DefaultRefresh
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.Refresh(ctx); err != nil && ctx.Err() == nil {
				p.log.Warnf("host metadata: %v (keeping the previous values)", err)
			}
		}
	}
}

// Lookup returns the metadata for the host named name (a record's
// Computer, lower case), or nil when name is another host. It is the
// mapping's Options.HostMeta.
func (p *Provider) Lookup(name string) *mapping.Host {
	s := p.cur.Load()
	if s.short == "" {
		// The facts were never read: only the configuration is known,
		// and it was meant for this host's own records, which cannot be
		// told from others. Apply it as procbeat always did.
		return &s.host
	}
	if IsLocal(name, s.short, s.fqdn) {
		return &s.host
	}
	return nil
}

// IsLocal reports whether the lower-case name a record gives for its
// computer names this host, known by its lower-case short name and DNS name
// (empty when unknown). A short name matches the host's short name; a DNS
// name matches the host's DNS name, or its short name when the host's
// domain is unknown.
func IsLocal(name, short, fqdn string) bool {
	if name == "" {
		return false
	}
	if name == short || name == fqdn {
		return true
	}
	first, _, dotted := strings.Cut(name, ".")
	if !dotted {
		return false
	}
	return first == short && (fqdn == "" || fqdn == short)
}

// HostOf turns facts into document values; each value set in static wins.
//
//	host.id             machine id
//	host.architecture   e.g. x86_64, arm64
//	host.ip             every address but loopback, without prefix length
//	host.mac            upper case, dash separated (ECS), none all-zero
//	host.os.version     e.g. 10.0
//	host.os.kernel      the kernel version go-sysinfo reports
//	host.os.Ext.variant the product name
//	host.os.full        product name and build, e.g. "Windows Server 2022
//	                    Datacenter 20348.2340"
func HostOf(f Facts, static mapping.Host) mapping.Host {
	h := mapping.Host{
		ID:           f.ID,
		Architecture: f.Architecture,
		IP:           ips(f.IPs),
		MAC:          macs(f.MACs),
		OSVersion:    f.OSVersion,
		OSKernel:     f.Kernel,
		OSVariant:    f.OSName,
		OSFull:       strings.TrimSpace(f.OSName + " " + f.OSBuild),
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&h.ID, static.ID)
	set(&h.Architecture, static.Architecture)
	set(&h.OSVersion, static.OSVersion)
	set(&h.OSFull, static.OSFull)
	set(&h.OSKernel, static.OSKernel)
	set(&h.OSVariant, static.OSVariant)
	if len(static.IP) > 0 {
		h.IP = static.IP
	}
	if len(static.MAC) > 0 {
		h.MAC = static.MAC
	}
	return h
}

func ips(in []string) []string {
	var out []string
	for _, s := range in {
		a, _, _ := strings.Cut(s, "/")
		ip := net.ParseIP(a)
		if ip == nil || ip.IsLoopback() || ip.IsUnspecified() {
			continue
		}
		v := ip.String()
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func macs(in []string) []string {
	var out []string
	for _, s := range in {
		hw, err := net.ParseMAC(s)
		if err != nil || allZero(hw) {
			continue
		}
		v := strings.ToUpper(strings.ReplaceAll(hw.String(), ":", "-"))
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Sysinfo reads the facts with go-sysinfo.
func Sysinfo(ctx context.Context) (Facts, error) {
	h, err := sysinfo.Host()
	if err != nil {
		return Facts{}, fmt.Errorf("reading host information: %w", err)
	}
	info := h.Info()
	f := Facts{
		ID:           info.UniqueID,
		Hostname:     info.Hostname,
		Architecture: info.NativeArchitecture,
		Kernel:       info.KernelVersion,
		IPs:          info.IPs,
		MACs:         info.MACs,
	}
	if f.Architecture == "" {
		f.Architecture = info.Architecture
	}
	if os := info.OS; os != nil {
		f.OSName, f.OSVersion, f.OSBuild = os.Name, os.Version, os.Build
	}
	// The DNS name needs a resolver; without one the short name still
	// identifies the host's records.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if fqdn, err := h.FQDNWithContext(ctx); err == nil {
		f.FQDN = fqdn
	}
	return f, nil
}
