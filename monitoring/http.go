package monitoring

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/elastic/elastic-agent-libs/api"
	"github.com/elastic/elastic-agent-libs/logp"
	libmon "github.com/elastic/elastic-agent-libs/monitoring"
)

// HTTPConfig mirrors Beats' http.* settings.
type HTTPConfig struct {
	Enabled bool   `config:"enabled"`
	Host    string `config:"host"` // default "localhost": loopback only; also unix:///path (npipe:/// on Windows)
	Port    int    `config:"port"` // default 5066; 0 picks a free port
}

// DefaultHTTPConfig is disabled, on localhost:5066.
func DefaultHTTPConfig() HTTPConfig {
	return HTTPConfig{Host: "localhost", Port: 5066}
}

// Server is Beats' HTTP endpoint, served by elastic-agent-libs' api
// package: GET / (name, uuid, version), /state and /stats, as JSON
// (?pretty indents it).
type Server struct {
	srv *api.Server
}

// Listen binds the endpoint over m. It returns (nil, nil) when cfg is
// disabled.
func Listen(cfg HTTPConfig, m *Metrics, log Logger) (*Server, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	if cfg.Host == "" {
		cfg.Host = "localhost"
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("monitoring http.port %d: out of range", cfg.Port)
	}
	lg, ok := Named(log, "api").(*logp.Logger)
	if !ok {
		lg = logp.NewNopLogger()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", api.MakeRootAPIHandler(api.MakeAPIHandler(namespace(m.info))))
	mux.HandleFunc("/state", api.MakeAPIHandler(namespace(m.state)))
	mux.HandleFunc("/stats", api.MakeAPIHandler(namespace(m.stats)))
	acfg := api.DefaultConfig()
	acfg.Enabled, acfg.Host, acfg.Port = true, cfg.Host, cfg.Port
	srv, err := api.NewFromConfig(lg, mux, acfg)
	if err != nil {
		return nil, fmt.Errorf("monitoring http endpoint %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return &Server{srv: srv}, nil
}

// namespace wraps a registry for api.MakeAPIHandler; procbeat keeps its
// registries to itself instead of registering them in the library's
// global namespaces.
func namespace(r *libmon.Registry) *libmon.Namespace {
	ns := libmon.NewNamespaces().Get("procbeat")
	ns.SetRegistry(r)
	return ns
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() string { return s.srv.Addr().String() }

// Serve runs until ctx ends, then shuts the server down.
func (s *Server) Serve(ctx context.Context) error {
	s.srv.Start()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("monitoring http endpoint: %w", err)
	}
	return nil
}
