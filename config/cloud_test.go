package config_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/internal/redact"
)

func TestCloudIDAndAuth(t *testing.T) {
	// A made-up deployment in Elastic Cloud's id format.
	id := "case-17:" + base64.StdEncoding.EncodeToString([]byte("europe-west3.gcp.cloud.es.io$5e1f0c2a9b$7d3e8a"))
	const host = "https://5e1f0c2a9b.europe-west3.gcp.cloud.es.io:443"
	for _, tc := range []struct {
		name, yml string
		overrides []string
		wantErr   string
		check     func(*testing.T, config.Config)
	}{
		{name: "id alone enables the output", overrides: []string{"cloud.id=" + id},
			check: func(t *testing.T, c config.Config) {
				es := c.Output.Elasticsearch
				if es == nil || !es.Enabled || len(es.Hosts) != 1 || es.Hosts[0] != host || es.BulkMaxSize != config.DefaultElasticsearch().BulkMaxSize {
					t.Errorf("output.elasticsearch = %+v", es)
				}
			}},
		{name: "id and auth replace hosts and credentials",
			yml:       "output.elasticsearch:\n  hosts: [other:9200]\n  username: u\n  password: p\n  bulk_max_size: 50\n",
			overrides: []string{"cloud.id=" + id, "cloud.auth=elastic:s3cr3t"},
			check: func(t *testing.T, c config.Config) {
				es := c.Output.Elasticsearch
				if es.Hosts[0] != host || len(es.Hosts) != 1 || es.Username != "elastic" || es.Password != "s3cr3t" || es.BulkMaxSize != 50 {
					t.Errorf("output.elasticsearch = %+v", es)
				}
			}},
		{name: "auth alone", overrides: []string{"cloud.auth=elastic:s3cr3t"}, wantErr: "cloud.auth:"},
		{name: "bad id", overrides: []string{"cloud.id=case:@@@"}, wantErr: "cloud.id:"},
		{name: "another output", yml: "output.file:\n  path: /tmp/x\n", overrides: []string{"cloud.id=" + id}, wantErr: "cloud.id:"},
		{name: "elasticsearch disabled", yml: "output.elasticsearch.enabled: false\n", overrides: []string{"cloud.id=" + id}, wantErr: "cloud.id:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, tc.yml, tc.overrides...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "s3cr3t") {
					t.Fatalf("err = %v, want one naming %s without the password", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestCloudAuthMasked(t *testing.T) {
	tree := config.MaskSecrets(map[string]any{"cloud": map[string]any{"id": "x:eQ==", "auth": "elastic:s3cr3t"}})
	if got := tree["cloud"].(map[string]any)["auth"]; got == "elastic:s3cr3t" {
		t.Errorf("cloud.auth shown: %v", got)
	}
}

// Headers that carry credentials are masked by their name, whatever their
// case; others stay readable.
func TestCredentialHeadersMasked(t *testing.T) {
	tree := config.MaskSecrets(map[string]any{"output": map[string]any{"elasticsearch": map[string]any{
		"proxy_headers": map[string]any{"Proxy-Authorization": "Basic dTpw", "authorization": "Bearer t", "X-Api-Key": "k1",
			"X-Auth-Token": "t2", "Cookie": "sid=1", "X-Request-Source": "procbeat"},
		"headers": map[string]any{"Authorization": "ApiKey x"},
	}}})
	es := tree["output"].(map[string]any)["elasticsearch"].(map[string]any)
	for section, names := range map[string][]string{"proxy_headers": {"Proxy-Authorization", "authorization", "X-Api-Key", "X-Auth-Token", "Cookie"}, "headers": {"Authorization"}} {
		for _, name := range names {
			if got := es[section].(map[string]any)[name]; got != redact.Mask {
				t.Errorf("%s.%s shown: %v", section, name, got)
			}
		}
	}
	if got := es["proxy_headers"].(map[string]any)["X-Request-Source"]; got != "procbeat" {
		t.Errorf("a plain header was masked: %v", got)
	}
}
