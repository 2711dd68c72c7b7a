package esclient

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

type answer struct {
	status int
	body   string
}

func (a answer) Perform(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.status, Body: io.NopCloser(strings.NewReader(a.body)), Header: http.Header{}, Request: req}, nil
}

// Fleet's Defend template for the same data streams is found, with its
// priority and manager; procbeat's own, and templates for other indices,
// are not.
func TestForeignIndexTemplates(t *testing.T) {
	list := `{"index_templates":[
	 {"name":"logs-endpoint.events.process","index_template":{"index_patterns":["logs-endpoint.events.process-*"],"priority":200,"_meta":{"managed_by":"fleet","package":{"name":"endpoint"}}}},
	 {"name":"procbeat-logs-endpoint.events.process","index_template":{"index_patterns":["logs-endpoint.events.process-*"],"priority":210}},
	 {"name":"one-namespace","index_template":{"index_patterns":["logs-endpoint.events.api-prod"],"priority":500}},
	 {"name":"logs","index_template":{"index_patterns":["logs-*-*"],"priority":100}},
	 {"name":"metrics","index_template":{"index_patterns":["metrics-*-*"],"priority":100}}]}`
	found, err := ForeignIndexTemplates(context.Background(), answer{200, list},
		[]string{"logs-endpoint.events.process-*", "logs-endpoint.events.api-*"},
		[]string{"procbeat-logs-endpoint.events.process", "procbeat-logs-endpoint.events.api"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range found {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "logs-endpoint.events.process,one-namespace,logs" {
		t.Fatalf("found %v", found)
	}
	if found[0].Priority != 200 || found[0].ManagedBy != "fleet" {
		t.Errorf("Defend's template: %+v", found[0])
	}
	if _, err := ForeignIndexTemplates(context.Background(), answer{403, `{"error":{"type":"security_exception","reason":"no"}}`}, nil, nil); err == nil || !strings.Contains(err.Error(), "listing index templates") {
		t.Errorf("refused listing: %v", err)
	}
}
