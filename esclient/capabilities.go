package esclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Capabilities are the cluster features the template generator adapts to.
type Capabilities struct {
	Wildcard        bool // field type wildcard
	ConstantKeyword bool // field type constant_keyword
	MatchOnlyText   bool // field type match_only_text
	// Version is the server version number, e.g. "8.19.21".
	Version string
	// Distribution is "elasticsearch" or "opensearch".
	Distribution string
}

// Field types probed, with the Elasticsearch module that provides each:
// the fallback when the user may not simulate templates.
var probedTypes = []struct {
	name   string
	module string
	set    func(*Capabilities)
}{
	{"wildcard", "wildcard", func(c *Capabilities) { c.Wildcard = true }},
	{"constant_keyword", "constant-keyword", func(c *Capabilities) { c.ConstantKeyword = true }},
	{"match_only_text", "mapper-extras", func(c *Capabilities) { c.MatchOnlyText = true }},
}

// DetectCapabilities asks the cluster which field types it supports.
//
// Each type is tried in a simulated index template (POST
// _index_template/_simulate, nothing is created): the server itself says
// whether it can map the type, whatever its distribution or plugins. If the
// credentials may not simulate templates (403), the node's module list is
// used instead (Elasticsearch only).
func DetectCapabilities(ctx context.Context, client Transport) (Capabilities, error) {
	var caps Capabilities
	info, err := clusterInfo(ctx, client)
	if err != nil {
		return caps, err
	}
	caps.Version, caps.Distribution = info.Version, info.Distribution
	for _, pt := range probedTypes {
		ok, err := simulateFieldType(ctx, client, pt.name)
		var er *ErrorResponse
		if errors.As(err, &er) && er.Status == http.StatusForbidden {
			return detectFromModules(ctx, client, caps)
		}
		if err != nil {
			return caps, fmt.Errorf("probe field type %s: %w", pt.name, err)
		}
		if ok {
			pt.set(&caps)
		}
	}
	return caps, nil
}

// FieldTypeSupported reports whether the cluster can map a field of type
// typ (for types beyond Capabilities, e.g. scaled_float, unsigned_long,
// version, which the integ-test-zip distribution also lacks). Types that
// need parameters (scaled_float's scaling_factor) are tried with a
// placeholder value. Needs the manage_index_templates privilege.
func FieldTypeSupported(ctx context.Context, client Transport, typ string) (bool, error) {
	return simulateFieldType(ctx, client, typ)
}

// simulateFieldType reports whether a template mapping a field of type
// typ is valid. Only the "no such mapper type" answer counts as false.
func simulateFieldType(ctx context.Context, client Transport, typ string) (bool, error) {
	params := ""
	switch typ {
	case "scaled_float":
		params = `,"scaling_factor":100`
	case "alias":
		params = `,"path":"probe_target"`
	}
	quoted, err := json.Marshal(typ)
	if err != nil {
		return false, err
	}
	body := fmt.Sprintf(`{"index_patterns":["procbeat-capability-probe-*"],"template":{"mappings":{"properties":{"probe_target":{"type":"keyword"},"probe":{"type":%s%s}}}}}`, quoted, params)
	status, resp, err := do(ctx, client, http.MethodPost, "/_index_template/_simulate", []byte(body))
	if err != nil {
		return false, err
	}
	if status == http.StatusOK {
		return true, nil
	}
	if status == http.StatusBadRequest && unknownMapperType(resp, typ) {
		return false, nil
	}
	return false, responseError(status, resp)
}

// unknownMapperType looks through the error's cause chain for the mapping
// failure naming typ: "The mapper type [x] declared on field [f] does not
// exist" (Elasticsearch 8+) or "No handler for type [x] declared on field"
// (7.x, OpenSearch).
func unknownMapperType(body []byte, typ string) bool {
	type cause struct {
		Type     string          `json:"type"`
		Reason   string          `json:"reason"`
		CausedBy json.RawMessage `json:"caused_by"`
	}
	var doc struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return false
	}
	raw := doc.Error
	for depth := 0; len(raw) > 0 && depth < 10; depth++ {
		var c cause
		if json.Unmarshal(raw, &c) != nil {
			return false
		}
		if c.Type == "mapper_parsing_exception" && strings.Contains(c.Reason, "["+typ+"]") &&
			(strings.Contains(c.Reason, "does not exist") || strings.Contains(c.Reason, "No handler for type")) {
			return true
		}
		raw = c.CausedBy
	}
	return false
}

func detectFromModules(ctx context.Context, client Transport, caps Capabilities) (Capabilities, error) {
	status, body, err := do(ctx, client, http.MethodGet, "/_nodes?filter_path=nodes.*.modules.name,nodes.*.plugins.name", nil)
	if err != nil {
		return caps, fmt.Errorf("list modules: %w", err)
	}
	if status != http.StatusOK {
		return caps, fmt.Errorf("list modules (after template simulation was forbidden): %w", responseError(status, body))
	}
	var doc struct {
		Nodes map[string]struct {
			Modules []struct{ Name string } `json:"modules"`
			Plugins []struct{ Name string } `json:"plugins"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return caps, fmt.Errorf("list modules: decode: %w", err)
	}
	// A type is usable only if every node has its module.
	for _, pt := range probedTypes {
		all := len(doc.Nodes) > 0
		for _, n := range doc.Nodes {
			found := false
			for _, m := range append(n.Modules, n.Plugins...) {
				found = found || m.Name == pt.module
			}
			all = all && found
		}
		if all {
			pt.set(&caps)
		}
	}
	return caps, nil
}

// ClusterInfo is what GET / tells about the cluster.
type ClusterInfo struct {
	ClusterName  string
	Version      string
	Distribution string // "elasticsearch" or "opensearch"
	BuildFlavor  string
}

// clusterInfo reads GET /, or _nodes/_local where a server lacks GET /
// (Elasticsearch's integ-test-zip distribution).
func clusterInfo(ctx context.Context, client Transport) (ClusterInfo, error) {
	status, body, err := do(ctx, client, http.MethodGet, "/", nil)
	if err != nil {
		return ClusterInfo{}, err
	}
	switch status {
	case http.StatusOK:
		var doc struct {
			ClusterName string `json:"cluster_name"`
			Version     struct {
				Number       string `json:"number"`
				Distribution string `json:"distribution"`
				BuildFlavor  string `json:"build_flavor"`
			} `json:"version"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return ClusterInfo{}, fmt.Errorf("GET /: decode: %w", err)
		}
		if doc.Version.Number == "" {
			return ClusterInfo{}, errors.New("GET /: answer carries no version.number")
		}
		return ClusterInfo{
			ClusterName:  doc.ClusterName,
			Version:      doc.Version.Number,
			Distribution: distribution(doc.Version.Distribution),
			BuildFlavor:  doc.Version.BuildFlavor,
		}, nil
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return nodesLocalInfo(ctx, client)
	default:
		return ClusterInfo{}, fmt.Errorf("GET /: %w", responseError(status, body))
	}
}

func nodesLocalInfo(ctx context.Context, client Transport) (ClusterInfo, error) {
	status, body, err := do(ctx, client, http.MethodGet, "/_nodes/_local?filter_path=cluster_name,nodes.*.version,nodes.*.build_flavor,nodes.*.distribution", nil)
	if err != nil {
		return ClusterInfo{}, err
	}
	if status != http.StatusOK {
		return ClusterInfo{}, fmt.Errorf("GET /_nodes/_local: %w", responseError(status, body))
	}
	var doc struct {
		ClusterName string `json:"cluster_name"`
		Nodes       map[string]struct {
			Version      string `json:"version"`
			BuildFlavor  string `json:"build_flavor"`
			Distribution string `json:"distribution"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return ClusterInfo{}, fmt.Errorf("GET /_nodes/_local: decode: %w", err)
	}
	for _, n := range doc.Nodes {
		return ClusterInfo{ClusterName: doc.ClusterName, Version: n.Version, Distribution: distribution(n.Distribution), BuildFlavor: n.BuildFlavor}, nil
	}
	return ClusterInfo{}, errors.New("GET /_nodes/_local: no node in the answer")
}

func distribution(d string) string {
	if strings.EqualFold(d, "opensearch") {
		return "opensearch"
	}
	return "elasticsearch"
}
