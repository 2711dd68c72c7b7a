package monitoring

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"
	libmon "github.com/elastic/elastic-agent-libs/monitoring"
)

// Logger is the logging the delivery packages need; *logp.Logger from
// github.com/elastic/elastic-agent-libs satisfies it. Debugf lines appear
// only when the component's logger name is selected (-d, logging.selectors).
type Logger interface {
	Debugf(format string, args ...any)
	Infof(format string, args ...any)
	Warnf(format string, args ...any)
	Errorf(format string, args ...any)
}

// NopLogger discards everything.
type NopLogger struct{}

func (NopLogger) Debugf(string, ...any) {}
func (NopLogger) Infof(string, ...any)  {}
func (NopLogger) Warnf(string, ...any)  {}
func (NopLogger) Errorf(string, ...any) {}

// Named returns the logger of one component: log.Named(name) for a
// *logp.Logger, so that its lines carry log.logger and its debug lines
// can be selected; any other Logger is returned as it is.
func Named(log Logger, name string) Logger {
	if l, ok := log.(*logp.Logger); ok {
		return l.Named(name)
	}
	return log
}

// DefaultLogPeriod is how often the metrics line is logged, as in Beats.
const DefaultLogPeriod = 30 * time.Second

// ecsVersion is the ECS version Beats put beside their logged metrics.
const ecsVersion = "1.6.0"

// Reporter logs the stats registry as Beats' log reporter does: every
// period, "Non-zero metrics in the last <period>" with the counters that
// changed (as deltas) and the non-zero gauges (as values); when stopped,
// "Total metrics" with every total. Start it with StartReporter.
type Reporter struct {
	stats  *libmon.Registry
	log    Logger
	period time.Duration
	gauges map[string]bool
	start  time.Time
	stop   context.CancelFunc
	done   chan struct{}
}

// StartReporter starts logging m's stats every period (DefaultLogPeriod
// when zero) until ctx ends or Stop is called.
func StartReporter(ctx context.Context, m *Metrics, log Logger, period time.Duration) *Reporter {
	if period <= 0 {
		period = DefaultLogPeriod
	}
	r := &Reporter{stats: m.stats, log: Named(log, "monitoring"), period: period, gauges: map[string]bool{}, start: time.Now(), done: make(chan struct{})}
	for _, f := range (Snapshot{}).Fields() {
		if f.Gauge {
			r.gauges["procbeat."+f.Name] = true
		}
	}
	ctx, r.stop = context.WithCancel(ctx)
	go r.run(ctx)
	return r
}

func (r *Reporter) run(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(r.period)
	defer t.Stop()
	prev := libmon.MakeFlatSnapshot()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			cur := libmon.CollectFlatSnapshot(r.stats, libmon.Full, false)
			if m := r.delta(prev, cur); len(m) > 0 {
				r.logMetrics("Non-zero metrics in the last "+r.period.String(), m)
			}
			prev = cur
		}
	}
}

// Stop ends the periodic lines and logs the totals, once everything
// counted has happened (call it after the pipeline has drained). It
// returns when the line is written.
func (r *Reporter) Stop() {
	r.stop()
	<-r.done
	cur := libmon.CollectFlatSnapshot(r.stats, libmon.Full, false)
	r.logMetrics("Total metrics", r.delta(libmon.MakeFlatSnapshot(), cur))
	r.log.Infof("Uptime: %s", time.Since(r.start).Round(time.Millisecond))
}

// gauge tells levels (reported as values) from running totals (reported
// as deltas).
func (r *Reporter) gauge(name string) bool {
	return r.gauges[name] || strings.HasSuffix(name, ".active") ||
		strings.HasPrefix(name, "beat.") || strings.HasPrefix(name, "system.")
}

// delta is the nested map of what to report: counters that changed since
// prev and non-zero gauges, plus strings that changed.
func (r *Reporter) delta(prev, cur libmon.FlatSnapshot) mapstr.M {
	m := mapstr.M{}
	for k, v := range cur.Ints {
		if !r.gauge(k) {
			v -= prev.Ints[k]
		}
		if v != 0 {
			_, _ = m.Put(k, v)
		}
	}
	for k, v := range cur.Floats {
		if v != 0 && r.gauge(k) {
			_, _ = m.Put(k, v)
		}
	}
	for k, v := range cur.Strings {
		if v != prev.Strings[k] {
			_, _ = m.Put(k, v)
		}
	}
	return m
}

// logMetrics writes the metrics as the line's monitoring object when the
// logger is structured (a *logp.Logger), as JSON text otherwise.
func (r *Reporter) logMetrics(msg string, metrics mapstr.M) {
	obj := mapstr.M{"metrics": metrics, "ecs.version": ecsVersion}
	if l, ok := r.log.(*logp.Logger); ok {
		l.Infow(msg, "monitoring", obj)
		return
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		r.log.Errorf("%s: %v", msg, err)
		return
	}
	r.log.Infof("%s %s", msg, raw)
}

// DeltaLine renders the fields of procbeat's own counters that differ
// between prev and cur as space-separated name=value pairs (counters as
// deltas, gauges as their new value); it is empty when nothing changed.
// Tests and debug lines use it; the metrics lines use the stats tree.
func DeltaLine(prev, cur Snapshot) string {
	pf, cf := prev.Fields(), cur.Fields()
	var b strings.Builder
	for i, f := range cf {
		d := f.Value - pf[i].Value
		if d == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.Name)
		b.WriteByte('=')
		if f.Gauge {
			b.WriteString(strconv.FormatInt(f.Value, 10))
		} else {
			b.WriteString(strconv.FormatInt(d, 10))
		}
	}
	return b.String()
}
