package monitoring

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	libmon "github.com/elastic/elastic-agent-libs/monitoring"
)

// Info describes the running procbeat, for the / and /state endpoints and
// the beat.info metrics.
type Info struct {
	Name        string // the beat's name: this machine's host name, as Beats default it
	Hostname    string
	UUID        string // the beat's id (path.data/meta.json when there is one)
	EphemeralID string // new every run
	Version     string
	Commit      string
	BuildDate   string
	Output      string // elasticsearch, file or console
	Inputs      int    // configured inputs (run) or files given (replay)
	HostID      string // procbeat.host.id, when configured
	Start       time.Time
}

// Metrics is procbeat's metrics tree in elastic-agent-libs registries,
// shaped as libbeat's so that Metricbeat's beat module and Stack Monitoring
// read it: "info" (GET /), "state" (GET /state) and "stats" (GET /stats and
// the metrics log lines). Every value is read from Counters when visited.
type Metrics struct {
	info, state, stats *libmon.Registry
}

// NewMetrics registers the tree over c.
func NewMetrics(c *Counters, info Info) *Metrics {
	m := &Metrics{info: libmon.NewRegistry(), state: libmon.NewRegistry(), stats: libmon.NewRegistry()}
	for k, val := range map[string]string{"beat": "procbeat", "name": info.Name, "hostname": info.Hostname,
		"uuid": info.UUID, "ephemeral_id": info.EphemeralID, "version": info.Version,
		"build_commit": info.Commit, "build_time": info.BuildDate} {
		if val != "" {
			libmon.NewString(m.info, k).Set(val)
		}
	}
	reportState(m.state, info)
	object(m.stats, "beat", func(v libmon.Visitor) { reportBeat(v, info) })
	object(m.stats, "libbeat", func(v libmon.Visitor) { reportLibbeat(v, c.Snapshot(), info) })
	object(m.stats, "system", reportSystem)
	object(m.stats, "procbeat", func(v libmon.Visitor) {
		for _, f := range c.Snapshot().Fields() {
			libmon.ReportInt(v, f.Name, f.Value)
		}
	})
	return m
}

// object registers under name an object whose values report reads when
// the registry is visited (a snapshot, a request, a metrics line).
func object(r *libmon.Registry, name string, report func(libmon.Visitor)) {
	libmon.NewFunc(r, name, func(_ libmon.Mode, v libmon.Visitor) {
		v.OnRegistryStart()
		defer v.OnRegistryFinished()
		report(v)
	})
}

// Info, State and Stats are the registries behind /, /state and /stats.
func (m *Metrics) Info() *libmon.Registry  { return m.info }
func (m *Metrics) State() *libmon.Registry { return m.state }
func (m *Metrics) Stats() *libmon.Registry { return m.stats }

// reportState fills the /state registry: static facts about this beat.
func reportState(r *libmon.Registry, info Info) {
	str := func(path, val string) {
		if val != "" {
			libmon.NewString(r, path).Set(val)
		}
	}
	str("beat.name", info.Name)
	str("host.architecture", runtime.GOARCH)
	str("host.hostname", info.Hostname)
	str("host.id", info.HostID)
	str("host.os.platform", runtime.GOOS)
	libmon.NewBool(r, "management.enabled").Set(false)
	libmon.NewInt(r, "module.count").Set(int64(info.Inputs))
	str("output.name", info.Output)
	// procbeat's pipeline holds events in memory only, like Beats' mem queue.
	str("queue.name", "mem")
	str("service.id", info.UUID)
	str("service.name", "procbeat")
	str("service.version", info.Version)
}

func reportBeat(v libmon.Visitor, info Info) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	libmon.ReportNamespace(v, "info", func() {
		libmon.ReportString(v, "ephemeral_id", info.EphemeralID)
		libmon.ReportString(v, "name", "procbeat")
		libmon.ReportString(v, "version", info.Version)
		libmon.ReportNamespace(v, "uptime", func() { libmon.ReportInt(v, "ms", time.Since(info.Start).Milliseconds()) })
	})
	libmon.ReportNamespace(v, "memstats", func() {
		libmon.ReportInt(v, "gc_next", int64(ms.NextGC))
		libmon.ReportInt(v, "memory_alloc", int64(ms.HeapAlloc))
		libmon.ReportInt(v, "memory_sys", int64(ms.Sys))
		libmon.ReportInt(v, "memory_total", int64(ms.TotalAlloc))
		if rss, ok := residentBytes(); ok {
			libmon.ReportInt(v, "rss", rss)
		}
	})
	libmon.ReportNamespace(v, "runtime", func() { libmon.ReportInt(v, "goroutines", int64(runtime.NumGoroutine())) })
	if user, system, ok := cpuTimes(); ok {
		// Beats report CPU time as ticks and time.ms, both milliseconds.
		libmon.ReportNamespace(v, "cpu", func() {
			for _, c := range []struct {
				name string
				ms   int64
			}{{"user", user}, {"system", system}, {"total", user + system}} {
				libmon.ReportNamespace(v, c.name, func() {
					libmon.ReportInt(v, "ticks", c.ms)
					libmon.ReportNamespace(v, "time", func() { libmon.ReportInt(v, "ms", c.ms) })
				})
			}
		})
	}
}

// reportLibbeat maps procbeat's counters onto libbeat's names. Acked
// events include those Elasticsearch rejected permanently (they are
// done); libbeat counts those as dropped, not acked.
func reportLibbeat(v libmon.Visitor, s Snapshot, info Info) {
	delivered := int64(s.EventsAcked) - int64(s.EventsFailed)
	libmon.ReportNamespace(v, "output", func() {
		libmon.ReportString(v, "type", info.Output)
		libmon.ReportNamespace(v, "events", func() {
			libmon.ReportInt(v, "acked", delivered)
			libmon.ReportInt(v, "active", s.QueueDepth)
			libmon.ReportInt(v, "batches", int64(s.BulkRequests+s.BatchesWritten))
			libmon.ReportInt(v, "dead_letter", int64(s.EventsDeadLettered))
			libmon.ReportInt(v, "dropped", int64(s.EventsFailed))
			libmon.ReportInt(v, "duplicates", int64(s.EventsDuplicate))
			// Beats count a failed send of a retryable event here.
			libmon.ReportInt(v, "failed", int64(s.EventsRetried))
			libmon.ReportInt(v, "total", int64(s.EventsAcked)+s.QueueDepth)
		})
		libmon.ReportNamespace(v, "write", func() {
			libmon.ReportInt(v, "bytes", int64(s.BulkBytesSent))
			libmon.ReportInt(v, "errors", int64(s.BulkRequestsFailed))
		})
	})
	libmon.ReportNamespace(v, "pipeline", func() {
		libmon.ReportInt(v, "clients", 1)
		libmon.ReportNamespace(v, "events", func() {
			libmon.ReportInt(v, "active", s.QueueDepth)
			libmon.ReportInt(v, "failed", int64(s.EventsFailed))
			libmon.ReportInt(v, "published", int64(s.EventsPublished))
			libmon.ReportInt(v, "retry", int64(s.EventsRetried))
			libmon.ReportInt(v, "total", int64(s.EventsPublished))
		})
		libmon.ReportNamespace(v, "queue", func() { libmon.ReportInt(v, "acked", int64(s.EventsAcked)) })
	})
	libmon.ReportNamespace(v, "config", func() {
		libmon.ReportNamespace(v, "module", func() {
			libmon.ReportInt(v, "running", int64(info.Inputs))
			libmon.ReportInt(v, "starts", int64(info.Inputs))
		})
	})
}

func reportSystem(v libmon.Visitor) {
	libmon.ReportNamespace(v, "cpu", func() { libmon.ReportInt(v, "cores", int64(runtime.NumCPU())) })
	if l, ok := loadAverage(); ok {
		cores := float64(runtime.NumCPU())
		libmon.ReportNamespace(v, "load", func() {
			libmon.ReportFloat(v, "1", l[0])
			libmon.ReportFloat(v, "5", l[1])
			libmon.ReportFloat(v, "15", l[2])
			libmon.ReportNamespace(v, "norm", func() {
				libmon.ReportFloat(v, "1", l[0]/cores)
				libmon.ReportFloat(v, "5", l[1]/cores)
				libmon.ReportFloat(v, "15", l[2]/cores)
			})
		})
	}
}

// loadAverage reads /proc/loadavg where the system has one (Linux); other
// systems report no system.load, as Beats do on Windows.
func loadAverage() ([3]float64, bool) {
	var l [3]float64
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l, false
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return l, false
	}
	for i := range l {
		if l[i], err = strconv.ParseFloat(f[i], 64); err != nil {
			return l, false
		}
	}
	return l, true
}

// residentBytes reads the resident set size from /proc/self/statm where
// there is one (Linux).
func residentBytes() (int64, bool) {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(raw))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}
