package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/esclient"
	"github.com/procbeat/procbeat/fields/template"
)

var errNoElasticsearch = errors.New("this command needs output.elasticsearch (set it in procbeat.yml or with -E output.elasticsearch.hosts=[...])")

// loadES loads the configuration of a command that talks to Elasticsearch.
func (g *globals) loadES(cmd *cobra.Command) (config.Config, esclient.Config, error) {
	cfg, err := g.load(cmd)
	if err != nil {
		return config.Config{}, esclient.Config{}, err
	}
	if note, _ := config.DisabledElasticsearch(g.layers, cfg); note != "" {
		// The section is there but off: say where, not "set it".
		return config.Config{}, esclient.Config{}, fmt.Errorf("this command needs output.elasticsearch: %s", note)
	}
	if cfg.Output.Elasticsearch == nil || !cfg.Output.Elasticsearch.Enabled {
		return config.Config{}, esclient.Config{}, errNoElasticsearch
	}
	return cfg, cfg.Output.Elasticsearch.ClientConfig(), nil
}

func newSetupCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "setup",
		Short: "Install the index templates for procbeat's data streams (idempotent)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, ec, err := g.loadES(cmd)
			if err != nil {
				return err
			}
			if !cfg.Setup.Template.Enabled {
				fmt.Fprintln(cmd.OutOrStdout(), "setup.template.enabled is false: nothing to do")
				return nil
			}
			client, closeLog, err := g.esClient(cmd, cfg, ec)
			if err != nil {
				return err
			}
			defer closeLog()
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			var caps template.Capabilities
			switch cfg.Setup.Template.FieldTypes {
			case "full":
				caps = template.Full
			case "minimal":
			default:
				found, err := esclient.DetectCapabilities(ctx, client)
				if err != nil {
					return fmt.Errorf("detecting the cluster's field types: %w", err)
				}
				ul, err := esclient.FieldTypeSupported(ctx, client, "unsigned_long")
				if err != nil {
					return fmt.Errorf("detecting the cluster's field types: %w", err)
				}
				caps = template.Capabilities{Wildcard: found.Wildcard, ConstantKeyword: found.ConstantKeyword, MatchOnlyText: found.MatchOnlyText, UnsignedLong: ul}
				fmt.Fprintf(out, "cluster: %s %s; field types: wildcard %s, constant_keyword %s, match_only_text %s, unsigned_long %s\n",
					found.Distribution, found.Version, yesNo(found.Wildcard), yesNo(found.ConstantKeyword), yesNo(found.MatchOnlyText), yesNo(ul))
			}
			bundle, err := buildTemplates(cfg.Setup.Template, caps)
			if err != nil {
				return err
			}
			for _, w := range bundle.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			rep, err := esclient.InstallTemplates(ctx, client, named(bundle.ComponentTemplates), named(bundle.IndexTemplates))
			for _, r := range rep.Results {
				fmt.Fprintf(out, "%s %s: %s\n", r.Kind, r.Name, r.Action)
			}
			if err != nil {
				return err
			}
			if rep.Changed() {
				fmt.Fprintln(out, "setup done: templates installed")
			} else {
				fmt.Fprintln(out, "setup done: templates already up to date, nothing changed")
			}
			return nil
		},
	}
}

func named(ts []template.Named) []esclient.Named {
	out := make([]esclient.Named, len(ts))
	for i, t := range ts {
		out[i] = esclient.Named{Name: t.Name, Body: t.Body}
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no (downgraded)"
}

func newTestOutputCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "output",
		Short: "Check connectivity, version and privileges of output.elasticsearch",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, ec, err := g.loadES(cmd)
			if err != nil {
				return err
			}
			log, closeLog, err := g.logger(cmd, cfg)
			if err != nil {
				return err
			}
			defer closeLog()
			failed := false
			for _, c := range esclient.TestOutput(cmd.Context(), ec, esclient.WithLogger(log)) {
				status := "ok"
				if !c.OK {
					status, failed = "ERROR", true
				}
				line := fmt.Sprintf("%s... %s", c.Name, status)
				if c.Detail != "" {
					line += ": " + c.Detail
				}
				fmt.Fprintln(cmd.OutOrStdout(), line)
			}
			if failed {
				return exitError{1}
			}
			return nil
		},
	}
}
