package main

import (
	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/esclient"
)

// esClient builds the Elasticsearch client of a command, logging through
// the configured logger (TLS warnings such as verification_mode: none);
// call the returned function when done.
func (g *globals) esClient(cmd *cobra.Command, cfg config.Config, ec esclient.Config) (*esclient.Client, func() error, error) {
	log, closeLog, err := g.logger(cmd, cfg)
	if err != nil {
		return nil, nil, err
	}
	client, err := esclient.New(ec, esclient.WithLogger(log))
	if err != nil {
		closeLog()
		return nil, nil, err
	}
	return client, closeLog, nil
}
