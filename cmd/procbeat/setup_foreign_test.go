package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/fields/template"
)

// templateList answers GET /_index_template with body.
type templateList string

func (l templateList) Perform(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.URL.Path != "/_index_template" {
		return &http.Response{StatusCode: 404, Body: io.NopCloser(strings.NewReader(`{}`)), Header: http.Header{}, Request: req}, nil
	}
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(string(l))), Header: http.Header{}, Request: req}, nil
}

// setup refuses to outrank Fleet's templates for the same data streams
// (Elastic Defend's) unless setup.template.priority says which wins, and
// says when another template outranks procbeat's.
func TestSetupChecksForeignTemplates(t *testing.T) {
	bundle := template.Bundle{IndexTemplates: []template.Named{
		{Name: "procbeat-logs-endpoint.events.process", Body: []byte(`{"index_patterns":["logs-endpoint.events.process-*"],"priority":210}`),
			Patterns: []string{"logs-endpoint.events.process-*"}},
	}}
	defend := templateList(`{"index_templates":[{"name":"logs-endpoint.events.process","index_template":{"index_patterns":["logs-endpoint.events.process-*"],"priority":200,"_meta":{"managed_by":"fleet"}}}]}`)
	check := func(client templateList, setBy string) (string, error) {
		var stderr bytes.Buffer
		cmd := &cobra.Command{}
		cmd.SetErr(&stderr)
		err := checkForeignTemplates(context.Background(), cmd, client, bundle, 210, setBy)
		return stderr.String(), err
	}
	if _, err := check(defend, ""); err == nil || !strings.Contains(err.Error(), "logs-endpoint.events.process (priority 200, logs-endpoint.events.process-*)") ||
		!strings.Contains(err.Error(), "setup.template.priority") {
		t.Errorf("Defend's template: %v, want a refusal naming it and the setting", err)
	}
	if _, err := check(defend, "the command line (-E, --path.*)"); err != nil {
		t.Errorf("priority set explicitly: %v", err)
	}
	stderr, err := check(templateList(`{"index_templates":[{"name":"mine","index_template":{"index_patterns":["logs-endpoint.events.*"],"priority":500}}]}`), "")
	if err != nil || !strings.Contains(stderr, "warning: index template mine (priority 500, logs-endpoint.events.*) outranks procbeat's (priority 210)") {
		t.Errorf("outranking template: %v, %q", err, stderr)
	}
	if stderr, err := check(templateList(`{"index_templates":[]}`), ""); err != nil || stderr != "" {
		t.Errorf("no other template: %v, %q", err, stderr)
	}
}
