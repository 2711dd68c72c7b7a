package config

import (
	"fmt"
)

// applyCloud makes cloud.id and cloud.auth take effect as in Beats: the id
// turns output.elasticsearch on (with its defaults when the section is
// absent; an explicitly disabled one is an error) and replaces its hosts with the deployment's URL; the auth
// replaces its username and password. Another output enabled beside it is
// an error, since procbeat has one output.
func (c *Config) applyCloud() error {
	if !c.Cloud.IsSet() {
		return nil
	}
	target, err := c.Cloud.Resolve()
	if err != nil {
		return err
	}
	switch {
	case c.Output.File != nil && c.Output.File.Enabled:
		return fmt.Errorf("cloud.id: sets output.elasticsearch, but output.file is enabled; disable it or remove cloud.id")
	case c.Output.Console != nil && c.Output.Console.Enabled:
		return fmt.Errorf("cloud.id: sets output.elasticsearch, but output.console is enabled; disable it or remove cloud.id")
	}
	if c.Output.Elasticsearch == nil {
		es := DefaultElasticsearch()
		c.Output.Elasticsearch = &es
	}
	es := c.Output.Elasticsearch
	if !es.Enabled {
		return fmt.Errorf("cloud.id: sets output.elasticsearch, but output.elasticsearch.enabled is false")
	}
	es.Hosts = []string{target.Host}
	if c.Cloud.Auth != "" {
		es.Username, es.Password = target.Username, target.Password
	}
	return nil
}
