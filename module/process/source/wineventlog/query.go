package wineventlog

import (
	"strconv"
	"strings"

	"github.com/procbeat/procbeat/winevent"
)

type providerEvents struct {
	provider string
	ids      []uint16
}

// wanted lists the events procbeat maps, by provider: the same set as
// mapping.Wants, or mapping.WantsWithImages with imageLoads (a test keeps
// them equal), so that the service renders nothing the mapping would throw
// away.
func wanted(imageLoads bool) []providerEvents {
	sysmon := []uint16{1, 5, 10}
	if imageLoads {
		sysmon = []uint16{1, 5, 7, 10}
	}
	return []providerEvents{
		{winevent.ProviderSysmon, sysmon},
		{winevent.ProviderSecurity, []uint16{4688, 4689}},
	}
}

// Query is the XPath filter every subscription uses, with Sysmon's image
// loads when imageLoads (image enrichment reads them). One query serves
// every channel: Sysmon/Operational and Security each match their half, and
// ForwardedEvents, which holds both, matches all of it.
func Query(imageLoads bool) string {
	var b strings.Builder
	b.WriteString("*[System[")
	for i, w := range wanted(imageLoads) {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString("(Provider[@Name='")
		b.WriteString(w.provider)
		b.WriteString("'] and (")
		for j, id := range w.ids {
			if j > 0 {
				b.WriteString(" or ")
			}
			b.WriteString("EventID=")
			b.WriteString(strconv.Itoa(int(id)))
		}
		b.WriteString("))")
	}
	b.WriteString("]]")
	return b.String()
}
