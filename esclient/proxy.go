package esclient

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/procbeat/procbeat/internal/redact"
)

// proxySchemes are the proxies net/http speaks, as Beats accept them.
var proxySchemes = []string{"http", "https", "socks5"}

// parseProxyURL reads proxy_url: a URL, or host[:port] meaning http, as
// in Beats. Errors show the value with its password hidden.
func parseProxyURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	withScheme := raw
	if !strings.Contains(raw, "://") {
		withScheme = "http://" + raw
	}
	u, err := url.Parse(withScheme)
	if err != nil {
		return nil, fmt.Errorf("output.elasticsearch.proxy_url: %q: %s", redact.URLs(withScheme), redact.URLs(err.Error()))
	}
	shown := redact.URLs(u.String())
	known := false
	for _, s := range proxySchemes {
		known = known || u.Scheme == s
	}
	if !known {
		return nil, fmt.Errorf("output.elasticsearch.proxy_url: %q: scheme %q is not one of %s", shown, u.Scheme, strings.Join(proxySchemes, ", "))
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("output.elasticsearch.proxy_url: %q: no host name", shown)
	}
	return u, nil
}

// ValidateProxyURL checks a proxy_url value ("" is valid: none set).
func ValidateProxyURL(raw string) error {
	if raw == "" {
		return nil
	}
	_, err := parseProxyURL(raw)
	return err
}

// proxy returns the transport's Proxy function: none with proxy_disable,
// proxy_url when set (HTTP_PROXY and the like then ignored), otherwise the
// environment's, as in Beats.
func (c Config) proxy() (func(*http.Request) (*url.URL, error), error) {
	switch {
	case c.ProxyDisable:
		return nil, nil
	case c.ProxyURL != "":
		u, err := parseProxyURL(c.ProxyURL)
		if err != nil {
			return nil, err
		}
		return http.ProxyURL(u), nil
	default:
		return http.ProxyFromEnvironment, nil
	}
}

// proxyHeaders are sent to the proxy with CONNECT requests (https hosts).
func (c Config) proxyHeaders() http.Header {
	if len(c.ProxyHeaders) == 0 || c.ProxyDisable {
		return nil
	}
	h := make(http.Header, len(c.ProxyHeaders))
	for k, v := range c.ProxyHeaders {
		h.Set(k, v)
	}
	return h
}
