package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/esclient"
	"github.com/procbeat/procbeat/kql"
)

func newQueryCmd(g *globals) *cobra.Command {
	var index string
	var size int
	cmd := &cobra.Command{
		Use:   "query QUERY",
		Short: "Run a KQL query against the configured cluster; print the count and the first hits",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, ec, err := g.loadES(cmd)
			if err != nil {
				return err
			}
			f, err := catalogFields()
			if err != nil {
				return err
			}
			dsl, err := kql.TranslateQuery(strings.Join(args, " "), f)
			if err != nil {
				return err
			}
			client, closeLog, err := g.esClient(cmd, cfg, ec)
			if err != nil {
				return err
			}
			defer closeLog()
			body := fmt.Sprintf(`{"query":%s,"size":%d,"track_total_hits":true,"sort":[{"@timestamp":{"order":"asc","unmapped_type":"date"}}]}`, dsl.String(), size)
			raw, err := esclient.Search(cmd.Context(), client, index, []byte(body))
			if err != nil {
				return err
			}
			var sr struct {
				Hits struct {
					Total struct {
						Value int64 `json:"value"`
					} `json:"total"`
					Hits []struct {
						Index  string          `json:"_index"`
						ID     string          `json:"_id"`
						Source json.RawMessage `json:"_source"`
					} `json:"hits"`
				} `json:"hits"`
			}
			if err := json.Unmarshal(raw, &sr); err != nil {
				return fmt.Errorf("search answer: %w", err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "count: %d\n", sr.Hits.Total.Value)
			for _, h := range sr.Hits.Hits {
				fmt.Fprintf(out, "%s %s %s\n", h.Index, h.ID, h.Source)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&index, "index", "logs-endpoint.events.*", "indices or data streams to search")
	cmd.Flags().IntVar(&size, "size", 10, "hits to print")
	return cmd
}
