package beater

import (
	"github.com/elastic/elastic-agent-libs/logp"

	"github.com/procbeat/procbeat/monitoring"
)

// logpOf is log as the *logp.Logger that elastic-agent-libs' tlscommon
// writes its warnings to (verification_mode: none), or nil for other
// loggers, whose TLS warnings are then dropped.
func logpOf(log monitoring.Logger) *logp.Logger {
	l, _ := log.(*logp.Logger)
	return l
}
