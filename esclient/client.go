package esclient

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-transport-go/v8/elastictransport"

	"github.com/procbeat/procbeat/version"
)

// Transport performs one request against the cluster. *Client implements
// it, and so does go-elasticsearch's client (the test harness's).
type Transport interface {
	Perform(req *http.Request) (*http.Response, error)
}

// Client is procbeat's Elasticsearch connection: the official transport
// (node pool, retries, authentication, request compression) under the
// hand-built requests of this package and of the output. go-elasticsearch's
// root package is not used: it carries about 860 packages of typed API
// that procbeat never calls, and compiling them was most of a cold build.
type Client struct {
	tp *elastictransport.Client
	// genuine is set by the first successful answer that says it comes
	// from Elasticsearch; until then every such answer is checked.
	genuine atomic.Bool
}

// ErrNotElasticsearch is returned for a successful answer from a server
// that does not say it is Elasticsearch (X-Elastic-Product), as the
// official client refuses to talk to one.
var ErrNotElasticsearch = errors.New("the server is not Elasticsearch (no X-Elastic-Product: Elasticsearch header)")

// Perform implements Transport.
func (c *Client) Perform(req *http.Request) (*http.Response, error) {
	res, err := c.tp.Perform(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 && !c.genuine.Load() {
		if res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
			res.Body.Close()
			return nil, ErrNotElasticsearch
		}
		c.genuine.Store(true)
	}
	return res, nil
}

// Option adjusts how New builds a client.
type Option func(*options)

type options struct {
	log *logp.Logger
}

// WithLogger gives the client a logger: TLS warnings (Beats' "SSL/TLS
// verifications disabled." under verification_mode: none, a
// ca_trusted_fingerprint matching no CA) go to its "tls" child. Without
// it they are dropped.
func WithLogger(log *logp.Logger) Option {
	return func(o *options) {
		if log != nil {
			o.log = log
		}
	}
}

// New returns a client for cfg. It validates cfg and reads the TLS files
// but does not contact the cluster.
func New(cfg Config, opts ...Option) (*Client, error) {
	return newClient(cfg, true, opts...)
}

// newClient is New with the client's retries optional: checks want one
// clear answer per host rather than the same failure four times.
func newClient(cfg Config, retry bool, opt ...Option) (*Client, error) {
	o := options{log: logp.NewNopLogger()}
	for _, f := range opt {
		f(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	urls, err := cfg.URLs()
	if err != nil {
		return nil, err
	}
	var parsed []*url.URL
	for _, u := range urls {
		pu, err := url.Parse(strings.TrimRight(u, "/"))
		if err != nil {
			return nil, fmt.Errorf("output.elasticsearch: host %s: %w", u, err)
		}
		parsed = append(parsed, pu)
	}
	transport, err := newTransport(cfg, parsed, o.log)
	if err != nil {
		return nil, err
	}
	opts := []elastictransport.Option{
		elastictransport.WithUserAgent("procbeat/" + version.Version),
		elastictransport.WithTransport(transport),
	}
	opts = append(opts, elastictransport.WithURLs(parsed...))
	switch {
	case cfg.APIKey != "":
		// Beats take "id:key"; the header wants it base64-encoded.
		opts = append(opts, elastictransport.WithAPIKey(base64.StdEncoding.EncodeToString([]byte(cfg.APIKey))))
	case cfg.Username != "" || cfg.Password != "":
		opts = append(opts, elastictransport.WithBasicAuth(cfg.Username, cfg.Password))
	}
	if cfg.CompressionLevel > 0 {
		opts = append(opts, elastictransport.WithCompression(cfg.CompressionLevel))
	}
	if !retry {
		opts = append(opts, elastictransport.WithDisableRetry())
	}
	tp, err := elastictransport.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("output.elasticsearch: %w", err)
	}
	return &Client{tp: tp}, nil
}

// newTransport applies timeout (connect, TLS handshake and waiting for
// response headers; a slow body is bounded by the caller's context), ssl
// and the proxy settings, with one connection pool per host.
func newTransport(cfg Config, hosts []*url.URL, log *logp.Logger) (hostTransports, error) {
	tc, err := loadTLS(cfg.SSL, log)
	if err != nil {
		return hostTransports{}, err
	}
	proxy, err := cfg.proxy()
	if err != nil {
		return hostTransports{}, err
	}
	headers := cfg.proxyHeaders()
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	var shared *tls.Config
	h := hostTransports{byHost: make(map[string]*http.Transport, len(hosts))}
	for _, u := range hosts {
		if _, dup := h.byHost[u.Host]; dup {
			continue
		}
		t := &http.Transport{
			Proxy:                 proxy,
			ProxyConnectHeader:    headers,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   cfg.Timeout,
			ResponseHeaderTimeout: cfg.Timeout,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
		}
		if u.Scheme == "https" {
			t.TLSClientConfig = clientTLS(tc, u, &shared, log)
		}
		h.byHost[u.Host] = t
	}
	return h, nil
}
