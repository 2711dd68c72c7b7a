package esclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
)

// Named is one template to install: its name and JSON body as PUT to
// _component_template/<name> or _index_template/<name>.
type Named struct {
	Name string
	Body []byte
}

// Action says what InstallTemplates did with one template.
type Action string

// Actions reported per template.
const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
)

// Template kinds, as in the API paths.
const (
	KindComponent = "component_template"
	KindIndex     = "index_template"
)

// TemplateResult is the outcome for one template.
type TemplateResult struct {
	Kind   string // KindComponent or KindIndex
	Name   string
	Action Action
}

// Report lists the outcome per template, in installation order.
type Report struct {
	Results []TemplateResult
}

// Changed reports whether any template was created or updated.
func (r Report) Changed() bool {
	for _, res := range r.Results {
		if res.Action != Unchanged {
			return true
		}
	}
	return false
}

// InstallTemplates puts the component templates, then the index templates
// (which refer to them), each only when the installed one differs
// semantically from the wanted body, so repeated runs change nothing. It
// stops at the first failure; the report then covers what was done so far.
func InstallTemplates(ctx context.Context, client Transport, components, indexTemplates []Named) (Report, error) {
	var rep Report
	for _, group := range []struct {
		kind  string
		items []Named
	}{{KindComponent, components}, {KindIndex, indexTemplates}} {
		for _, t := range group.items {
			action, err := installOne(ctx, client, group.kind, t)
			if err != nil {
				return rep, err
			}
			rep.Results = append(rep.Results, TemplateResult{Kind: group.kind, Name: t.Name, Action: action})
		}
	}
	return rep, nil
}

func installOne(ctx context.Context, client Transport, kind string, t Named) (Action, error) {
	if t.Name == "" {
		return "", fmt.Errorf("%s without a name", kind)
	}
	var want any
	if err := decodeJSON(t.Body, &want); err != nil {
		return "", fmt.Errorf("%s %s: body: %w", kind, t.Name, err)
	}
	path := "/_" + kind + "/" + url.PathEscape(t.Name)
	status, body, err := do(ctx, client, http.MethodGet, path, nil)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", kind, t.Name, err)
	}
	action := Created
	switch {
	case status == http.StatusNotFound:
	case status == http.StatusOK:
		have, err := installedBody(kind, t.Name, body)
		if err != nil {
			return "", fmt.Errorf("%s %s: %w", kind, t.Name, err)
		}
		if templatesEqual(want, have) {
			return Unchanged, nil
		}
		action = Updated
	default:
		return "", fmt.Errorf("%s %s: GET %s: %w", kind, t.Name, path, responseError(status, body))
	}
	status, body, err = do(ctx, client, http.MethodPut, path, t.Body)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", kind, t.Name, err)
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("%s %s: PUT %s: %w", kind, t.Name, path, responseError(status, body))
	}
	return action, nil
}

// installedBody extracts the template from a GET answer, which wraps it as
// {"component_templates":[{"name":..,"component_template":{..}}]} (or the
// index_templates equivalent).
func installedBody(kind, name string, body []byte) (any, error) {
	var wrapper map[string][]map[string]json.RawMessage
	if err := json.Unmarshal(body, &wrapper); err != nil {
		return nil, fmt.Errorf("decode installed template: %w", err)
	}
	for _, entry := range wrapper[kind+"s"] {
		var n string
		if err := json.Unmarshal(entry["name"], &n); err != nil || n != name {
			continue
		}
		var have any
		if err := decodeJSON(entry[kind], &have); err != nil {
			return nil, fmt.Errorf("decode installed template: %w", err)
		}
		return have, nil
	}
	return nil, fmt.Errorf("installed template missing from GET answer")
}

// templatesEqual compares a wanted and an installed template after
// undoing what Elasticsearch does when it stores one:
//   - index settings come back flattened under "index." with string values
//     ({"number_of_shards":1} -> {"index":{"number_of_shards":"1"}});
//   - scalar types may change ("1" vs 1), which the server treats alike;
//   - keys the server fills in with a false/empty default
//     (data_stream.hidden, data_stream.allow_custom_routing) are ignored when
//     the wanted body leaves them out. Never inside mappings, where a
//     leftover "index": false would matter.
func templatesEqual(want, have any) bool {
	return reflect.DeepEqual(normaliseTemplate(want, true), normaliseTemplate(have, false))
}

func normaliseTemplate(v any, wanted bool) any {
	m, ok := v.(map[string]any)
	if !ok {
		return normaliseValue(v)
	}
	out := make(map[string]any, len(m))
	for k, val := range m {
		out[k] = normaliseValue(val)
	}
	if tmpl, ok := m["template"].(map[string]any); ok {
		t := make(map[string]any, len(tmpl))
		for k, val := range tmpl {
			switch k {
			case "settings":
				t[k] = flattenSettings(val)
			default:
				t[k] = normaliseValue(val)
			}
		}
		// An empty settings/aliases/mappings object means the same as none.
		for _, k := range []string{"settings", "aliases", "mappings"} {
			if isEmpty(t[k]) {
				delete(t, k)
			}
		}
		out["template"] = t
	}
	if !wanted {
		dropServerDefaults(out, "")
	}
	return out
}

// serverDefaults are keys (dotted from the template root) the server adds
// with these values when they were not given.
var serverDefaults = map[string]string{
	"data_stream.hidden":               "false",
	"data_stream.allow_custom_routing": "false",
	"data_stream.failure_store":        "false",
}

func dropServerDefaults(m map[string]any, prefix string) {
	for k, v := range m {
		key := prefix + k
		if key == "template" {
			continue
		}
		if def, ok := serverDefaults[key]; ok && v == def {
			delete(m, k)
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			dropServerDefaults(sub, key+".")
		}
	}
}

// flattenSettings turns nested or dotted settings into one flat map of
// "index."-prefixed keys to string values, as the server reports them.
func flattenSettings(v any) any {
	flat := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, val := range m {
				walk(prefix+k+".", val)
			}
			return
		}
		key := strings.TrimSuffix(prefix, ".")
		if !strings.HasPrefix(key, "index.") {
			key = "index." + key
		}
		flat[key] = normaliseValue(v)
	}
	walk("", v)
	if len(flat) == 0 {
		return nil
	}
	return flat
}

// normaliseValue turns every scalar into its string form.
func normaliseValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[k] = normaliseValue(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = normaliseValue(val)
		}
		return out
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case nil:
		return nil
	default:
		return fmt.Sprint(x)
	}
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func decodeJSON(data []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

// do sends one request and returns status and body (bounded to 8 MiB).
func do(ctx context.Context, client Transport, method, path string, body []byte) (int, []byte, error) {
	return doLimit(ctx, client, method, path, body, 8<<20)
}

// doLimit is do with the answer bounded to limit bytes.
func doLimit(ctx context.Context, client Transport, method, path string, body []byte, limit int64) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, path, nil)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Perform(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, limit))
	if err != nil {
		return res.StatusCode, nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	return res.StatusCode, data, nil
}

// ErrorResponse is a non-success answer from Elasticsearch.
type ErrorResponse struct {
	Status int
	Type   string // error.type, e.g. security_exception
	Reason string // error.reason
}

func (e *ErrorResponse) Error() string {
	switch {
	case e.Type != "":
		return fmt.Sprintf("status %d: %s: %s", e.Status, e.Type, e.Reason)
	case e.Reason != "":
		return fmt.Sprintf("status %d: %s", e.Status, e.Reason)
	default:
		return fmt.Sprintf("status %d %s", e.Status, http.StatusText(e.Status))
	}
}

// responseError decodes Elasticsearch's error document, which is either
// {"error":{"type":..,"reason":..}} or {"error":"text"}.
func responseError(status int, body []byte) *ErrorResponse {
	e := &ErrorResponse{Status: status}
	var doc struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil && len(doc.Error) > 0 {
		var obj struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(doc.Error, &obj) == nil {
			e.Type, e.Reason = obj.Type, obj.Reason
		} else {
			_ = json.Unmarshal(doc.Error, &e.Reason)
		}
	}
	if e.Type == "" && e.Reason == "" && len(body) > 0 {
		e.Reason = strings.TrimSpace(string(body[:min(len(body), 300)]))
	}
	return e
}
