// Package esclient connects procbeat to Elasticsearch: the
// output.elasticsearch settings, a configured client, detection of what the
// cluster supports, idempotent template installation and the connection
// checks behind "procbeat test output".
package esclient

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/procbeat/procbeat/internal/fielderr"
	"github.com/procbeat/procbeat/internal/redact"
)

// Defaults follow the Beats output.elasticsearch settings.
const (
	DefaultHost             = "http://localhost:9200"
	DefaultPort             = 9200
	DefaultTimeout          = 90 * time.Second
	DefaultCompressionLevel = 1
)

// Config is the output.elasticsearch section.
type Config struct {
	// Hosts are "host", "host:port" or URLs; the scheme defaults to Protocol
	// and the port to 9200.
	Hosts []string `config:"hosts"`
	// Protocol is http or https for hosts given without a scheme.
	Protocol string `config:"protocol"`
	// Path is an HTTP path prefix for hosts given without one (a proxy).
	Path     string `config:"path"`
	Username string `config:"username"`
	Password string `config:"password"`
	// APIKey is "id:key", as Elasticsearch's create API key API returns.
	APIKey           string        `config:"api_key"`
	SSL              SSLConfig     `config:"ssl"`
	Timeout          time.Duration `config:"timeout"`
	CompressionLevel int           `config:"compression_level"`
	// ProxyURL is the proxy for every host (http, https or socks5; a bare
	// host:port means http); unset, HTTP_PROXY/HTTPS_PROXY/NO_PROXY apply.
	ProxyURL string `config:"proxy_url"`
	// ProxyDisable ignores proxy_url and the environment's proxies.
	ProxyDisable bool `config:"proxy_disable"`
	// ProxyHeaders are sent to the proxy with its CONNECT requests.
	ProxyHeaders map[string]string `config:"proxy_headers"`
}

// DefaultConfig returns the settings used for keys the user leaves out;
// unpack the user's section into it.
func DefaultConfig() Config {
	return Config{
		Hosts:            []string{DefaultHost},
		Timeout:          DefaultTimeout,
		CompressionLevel: DefaultCompressionLevel,
		SSL:              SSLConfig{VerificationMode: VerifyFull},
	}
}

// Validate checks the settings without touching the network or files.
// Errors are *fielderr.Error with keys relative to the section (protocol,
// hosts.1): whoever unpacked the section puts them under its path
// (output.elasticsearch in procbeat.yml). go-ucfg calls it on unpack.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) { errs = append(errs, fielderr.New(key, format, args...)) }
	if len(c.Hosts) == 0 {
		bad("hosts", "at least one host is required")
	}
	switch strings.ToLower(c.Protocol) {
	case "", "http", "https":
		for i, h := range c.Hosts {
			if _, err := hostURL(h, c.Protocol, c.Path); err != nil {
				bad(fmt.Sprintf("hosts.%d", i), "%w", err)
			}
		}
	default:
		bad("protocol", "%q is not http or https", c.Protocol)
	}
	if c.APIKey != "" {
		if id, key, ok := strings.Cut(c.APIKey, ":"); !ok || id == "" || key == "" {
			bad("api_key", `want "id:key"`)
		}
		if c.Username != "" || c.Password != "" {
			bad("api_key", "cannot be combined with username/password")
		}
	}
	if c.Password != "" && c.Username == "" {
		bad("username", "required when password is set")
	}
	if c.Timeout <= 0 {
		bad("timeout", "%v is not positive", c.Timeout)
	}
	if c.CompressionLevel < 0 || c.CompressionLevel > 9 {
		bad("compression_level", "%d is outside 0..9", c.CompressionLevel)
	}
	// The ssl and proxy checks name the full key (output.elasticsearch.ssl.…)
	// themselves; fielderr.Under leaves their errors as they are.
	if err := c.SSL.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := ValidateProxyURL(c.ProxyURL); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// URLs returns the hosts as base URLs, in order.
func (c Config) URLs() ([]string, error) {
	out := make([]string, 0, len(c.Hosts))
	for i, h := range c.Hosts {
		u, err := hostURL(h, c.Protocol, c.Path)
		if err != nil {
			return nil, fielderr.New(fmt.Sprintf("hosts.%d", i), "%w", err)
		}
		out = append(out, u)
	}
	return out, nil
}

// hostURL turns one hosts entry into a base URL.
func hostURL(host, protocol, path string) (string, error) {
	host = strings.TrimSpace(host)
	// Errors quote the host as given, password hidden.
	shown := redact.URLs(host)
	if host == "" {
		return "", errors.New("empty host")
	}
	if protocol == "" {
		protocol = "http"
	}
	raw := host
	if !strings.Contains(host, "://") {
		raw = strings.ToLower(protocol) + "://" + host
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q: %s", shown, redact.URLs(err.Error()))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%q: scheme %q is not http or https", shown, u.Scheme)
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("%q: no host name", shown)
	}
	if u.User != nil {
		// The user part may be a secret too (a token): hide it all.
		hidden := *u
		hidden.User = url.User(redact.Mask)
		return "", fmt.Errorf("%q: put credentials in username/password, not in the URL", hidden.String())
	}
	if p := u.Port(); p == "" {
		u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(DefaultPort))
	} else if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: bad port %q", shown, p)
	}
	if (u.Path == "" || u.Path == "/") && path != "" {
		u.Path = "/" + strings.Trim(path, "/")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u.String(), nil
}

// parseFingerprint accepts hex with or without ':' separators.
func parseFingerprint(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if err != nil {
		return nil, fmt.Errorf("not hex: %w", err)
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("%d bytes, want the 32 of a SHA-256", len(b))
	}
	return b, nil
}
