package beater

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/procbeat/procbeat/monitoring"
	"github.com/procbeat/procbeat/version"
)

// startMonitoring builds the metrics tree, starts the metrics log lines
// (logging.metrics) and the HTTP endpoint (http.*). agentID is the beat's
// persistent id when there is one.
func (b *Beater) startMonitoring(ctx context.Context, agentID string) error {
	cfg := b.cfg
	eph := uuid.NewString()
	id := agentID
	if id == "" {
		// Without path.data (a replay to stdout) there is nothing to
		// persist an id in: this run's id is its ephemeral id.
		id = eph
	}
	host := localHostName()
	inputs := 0
	for _, in := range cfg.Procbeat.Inputs {
		if in.Enabled {
			inputs++
		}
	}
	b.metrics = monitoring.NewMetrics(b.counters, monitoring.Info{
		Name: host, Hostname: host, UUID: id, EphemeralID: eph,
		Version: version.Version, Commit: version.Commit, BuildDate: version.BuildDate,
		Output: outputName(cfg.Output.Elasticsearch != nil && cfg.Output.Elasticsearch.Enabled, cfg.Output.File != nil && cfg.Output.File.Enabled),
		Inputs: inputs, HostID: cfg.Procbeat.Host.ID, Start: time.Now(),
	})
	if cfg.Logging.Metrics.Enabled {
		b.reporter = monitoring.StartReporter(ctx, b.metrics, b.log, cfg.Logging.Metrics.Period)
	}
	if cfg.HTTP.Enabled {
		srv, err := monitoring.Listen(monitoring.HTTPConfig{Enabled: true, Host: cfg.HTTP.Host, Port: cfg.HTTP.Port}, b.metrics, b.log)
		if err != nil {
			if b.reporter != nil {
				b.reporter.Stop()
			}
			return err
		}
		b.http = srv
		go srv.Serve(ctx)
	}
	return nil
}

// outputName is the output's name in /state and libbeat.output.type,
// chosen as Beater.output chooses the output.
func outputName(es, file bool) string {
	switch {
	case es:
		return "elasticsearch"
	case file:
		return "file"
	}
	return "console"
}
