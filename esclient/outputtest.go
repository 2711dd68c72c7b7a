package esclient

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/procbeat/procbeat/internal/redact"
)

// Check is one line of "procbeat test output".
type Check struct {
	Name   string
	OK     bool
	Detail string
}

// Index pattern and privileges procbeat's events need: create_doc to
// append to data streams, auto_configure to create them on first write.
const (
	EventsIndexPattern = "logs-endpoint.events.*"
)

var eventsIndexPrivileges = []string{"create_doc", "auto_configure"}

// MinimumMajorVersion is the oldest Elasticsearch major procbeat supports.
const MinimumMajorVersion = 8

// TestOutput checks that cfg reaches a usable cluster: each host answers,
// the version is supported, and the credentials may write procbeat's
// events and manage index templates. It never returns early on a failed
// check unless later checks depend on it.
func TestOutput(ctx context.Context, cfg Config, opts ...Option) []Check {
	if err := cfg.Validate(); err != nil {
		return []Check{{Name: "config", Detail: err.Error()}}
	}
	urls, err := cfg.URLs()
	if err != nil {
		return []Check{{Name: "config", Detail: err.Error()}}
	}
	var checks []Check
	if cfg.SSL.VerificationMode == VerifyNone && usesHTTPS(urls) && (cfg.SSL.Enabled == nil || *cfg.SSL.Enabled) {
		// Beats' test output shows this as a WARN line; it is not a failure.
		checks = append(checks, Check{Name: "tls", OK: true, Detail: "WARN server's certificate chain verification is disabled (ssl.verification_mode: none)"})
	}
	var reachable *Client
	var info ClusterInfo
	for _, u := range urls {
		one := cfg
		one.Hosts = []string{u}
		client, err := newClient(one, false, opts...)
		if err != nil {
			return append(checks, Check{Name: "config", Detail: err.Error()})
		}
		ci, err := clusterInfo(ctx, client)
		if err != nil {
			checks = append(checks, Check{Name: "connection " + u, Detail: explain(err, u)})
			continue
		}
		checks = append(checks, Check{Name: "connection " + u, OK: true, Detail: fmt.Sprintf("%s %s, cluster %q", productName(ci), ci.Version, ci.ClusterName)})
		if reachable == nil {
			reachable, info = client, ci
		}
	}
	if reachable == nil {
		return append(checks, Check{Name: "cluster", Detail: "no host reachable; later checks skipped"})
	}
	checks = append(checks, versionCheck(info))
	checks = append(checks, privilegeChecks(ctx, reachable)...)
	return checks
}

func usesHTTPS(urls []string) bool {
	for _, u := range urls {
		if strings.HasPrefix(u, "https://") {
			return true
		}
	}
	return false
}

func productName(ci ClusterInfo) string {
	if ci.Distribution == "opensearch" {
		return "OpenSearch"
	}
	return "Elasticsearch"
}

func versionCheck(ci ClusterInfo) Check {
	c := Check{Name: "version", Detail: productName(ci) + " " + ci.Version}
	major, err := strconv.Atoi(strings.SplitN(ci.Version, ".", 2)[0])
	switch {
	case err != nil:
		c.Detail = fmt.Sprintf("cannot read version %q", ci.Version)
	case ci.Distribution == "opensearch":
		c.Detail += ": not supported, procbeat needs Elasticsearch"
	case major < MinimumMajorVersion:
		c.Detail += fmt.Sprintf(": too old, procbeat needs %d.0 or later", MinimumMajorVersion)
	default:
		c.OK = true
	}
	return c
}

func privilegeChecks(ctx context.Context, client Transport) []Check {
	write := Check{Name: "privileges: write " + EventsIndexPattern}
	templates := Check{Name: "privileges: manage index templates"}
	req := map[string]any{
		"cluster": []string{"manage_index_templates"},
		"index": []map[string]any{{
			"names":      []string{EventsIndexPattern},
			"privileges": eventsIndexPrivileges,
		}},
	}
	body, _ := json.Marshal(req)
	status, resp, err := do(ctx, client, http.MethodPost, "/_security/user/_has_privileges", body)
	if err != nil {
		write.Detail, templates.Detail = explain(err, ""), explain(err, "")
		return []Check{write, templates}
	}
	if status == http.StatusBadRequest && securityDisabled(resp) {
		write.OK, write.Detail = true, "security disabled"
		templates.OK, templates.Detail = true, "security disabled"
		return []Check{write, templates}
	}
	if status != http.StatusOK {
		d := explain(responseError(status, resp), "")
		write.Detail, templates.Detail = d, d
		return []Check{write, templates}
	}
	var doc struct {
		Username string                                `json:"username"`
		Cluster  map[string]bool                       `json:"cluster"`
		Index    map[string]map[string]json.RawMessage `json:"index"`
	}
	if err := json.Unmarshal(resp, &doc); err != nil {
		d := fmt.Sprintf("decode _has_privileges answer: %v", err)
		write.Detail, templates.Detail = d, d
		return []Check{write, templates}
	}
	var missing []string
	for _, p := range eventsIndexPrivileges {
		var granted bool
		if json.Unmarshal(doc.Index[EventsIndexPattern][p], &granted) != nil || !granted {
			missing = append(missing, p)
		}
	}
	who := fmt.Sprintf("user %q", doc.Username)
	if len(missing) == 0 {
		write.OK, write.Detail = true, who+" may "+strings.Join(eventsIndexPrivileges, ", ")
	} else {
		write.Detail = fmt.Sprintf("%s lacks index privileges %s on %s", who, strings.Join(missing, ", "), EventsIndexPattern)
	}
	if doc.Cluster["manage_index_templates"] {
		templates.OK, templates.Detail = true, who+" may manage_index_templates"
	} else {
		templates.Detail = who + " lacks cluster privilege manage_index_templates (needed by setup)"
	}
	return []Check{write, templates}
}

// securityDisabled recognises the answer of a cluster without security:
// the _security endpoints are not registered at all.
func securityDisabled(body []byte) bool {
	e := responseError(http.StatusBadRequest, body)
	return strings.Contains(e.Reason, "no handler found")
}

// explain turns a failure into advice naming the setting to look at.
func explain(err error, host string) string {
	var er *ErrorResponse
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var netErr net.Error
	switch {
	case errors.As(err, &er) && er.Status == http.StatusUnauthorized:
		return "authentication failed (401): check output.elasticsearch.username/password or api_key (" + er.Error() + ")"
	case errors.As(err, &er) && er.Status == http.StatusForbidden:
		return "permission denied (403): the credentials lack a privilege (" + er.Error() + ")"
	case errors.As(err, &er):
		return er.Error()
	case strings.Contains(err.Error(), "proxyconnect") || strings.Contains(err.Error(), "socks connect"):
		return "cannot go through the proxy (output.elasticsearch.proxy_url, or HTTP_PROXY/HTTPS_PROXY): " + redact.URLs(err.Error())
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "actively refused"):
		// The second form is Windows' WSAECONNREFUSED, which syscall's
		// ECONNREFUSED does not match there.
		return fmt.Sprintf("connection refused: nothing listens at %s; check output.elasticsearch.hosts and that Elasticsearch runs", host)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot resolve host %q: check output.elasticsearch.hosts", dnsErr.Name)
	case errors.As(err, &unknownCA):
		return "TLS: server certificate signed by an unknown authority: set output.elasticsearch.ssl.certificate_authorities or ssl.ca_trusted_fingerprint (" + err.Error() + ")"
	case errors.As(err, &hostErr):
		return "TLS: server certificate does not match the host name in output.elasticsearch.hosts; ssl.verification_mode: certificate skips this check (" + err.Error() + ")"
	case strings.Contains(err.Error(), "tls: certificate required") || strings.Contains(err.Error(), "tls: bad certificate"):
		return "TLS: the server requires a client certificate it trusts: set output.elasticsearch.ssl.certificate and ssl.key (" + err.Error() + ")"
	case strings.Contains(err.Error(), "remote error: tls: unknown certificate"):
		// Go servers say "unknown certificate authority", Elasticsearch's
		// JSSE "unknown certificate" (certificate_unknown).
		return "TLS: the server refused the client certificate, signed by a CA it does not trust: check output.elasticsearch.ssl.certificate (" + err.Error() + ")"
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "the server speaks plain HTTP: use http:// in output.elasticsearch.hosts (" + err.Error() + ")"
	case strings.Contains(err.Error(), "malformed HTTP response"):
		return "the server speaks TLS: use https:// in output.elasticsearch.hosts (" + err.Error() + ")"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timed out: check output.elasticsearch.hosts, firewalls and output.elasticsearch.timeout (" + err.Error() + ")"
	default:
		return err.Error()
	}
}
