package monitoring

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Logger is the logging the delivery packages need; *logp.Logger from
// github.com/elastic/elastic-agent-libs satisfies it.
type Logger interface {
	Infof(format string, args ...any)
	Warnf(format string, args ...any)
	Errorf(format string, args ...any)
}

// NopLogger discards everything.
type NopLogger struct{}

func (NopLogger) Infof(string, ...any)  {}
func (NopLogger) Warnf(string, ...any)  {}
func (NopLogger) Errorf(string, ...any) {}

// DefaultLogPeriod is how often LogPeriodically reports, as Beats do.
const DefaultLogPeriod = 30 * time.Second

// LogPeriodically logs, every period until ctx ends, the counters that
// changed since the previous report (counters as deltas, gauges as their
// new value). Nothing is logged for a quiet period. When ctx ends, the
// closing line gives the counters' totals, as Beats' "Total metrics"
// does: a last partial period as a delta was easily read as the run's count.
// Cancel ctx only once the pipeline is drained, and wait for the return.
func LogPeriodically(ctx context.Context, c *Counters, log Logger, period time.Duration) {
	if period <= 0 {
		period = DefaultLogPeriod
	}
	start := time.Now()
	t := time.NewTicker(period)
	defer t.Stop()
	prev := c.Snapshot()
	for {
		select {
		case <-ctx.Done():
			cur := c.Snapshot()
			if line := DeltaLine(Snapshot{}, cur); line != "" {
				log.Infof("Total non-zero metrics after %s: %s", time.Since(start).Round(time.Millisecond), line)
			}
			return
		case <-t.C:
			cur := c.Snapshot()
			if line := DeltaLine(prev, cur); line != "" {
				log.Infof("Non-zero metrics in the last %s: %s", period, line)
			}
			prev = cur
		}
	}
}

// DeltaLine renders the fields that differ between prev and cur as
// space-separated name=value pairs; it is empty when nothing changed.
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
