package monitoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// HTTPConfig mirrors Beats' http.* settings.
type HTTPConfig struct {
	Enabled bool   `config:"enabled"`
	Host    string `config:"host"` // default "localhost": loopback only
	Port    int    `config:"port"` // default 5066; 0 picks a free port
}

// DefaultHTTPConfig is disabled, on localhost:5066.
func DefaultHTTPConfig() HTTPConfig {
	return HTTPConfig{Host: "localhost", Port: 5066}
}

// Server serves the counters as JSON at /stats (and / for a liveness probe).
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds the endpoint. It returns (nil, nil) when cfg is disabled.
func Listen(cfg HTTPConfig, c *Counters) (*Server, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	host := cfg.Host
	if host == "" {
		host = "localhost"
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("monitoring http.port %d: out of range", cfg.Port)
	}
	addr := net.JoinHostPort(host, strconv.Itoa(cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("monitoring http endpoint %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c.Snapshot())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"name":"procbeat"}` + "\n"))
	})
	return &Server{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}, nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve runs until ctx ends, then shuts the server down.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("monitoring http endpoint: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(sctx)
		if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
		return err
	}
}
