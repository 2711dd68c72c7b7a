package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
			if err := checkForeignTemplates(ctx, cmd, client, bundle, cfg.Setup.Template.Priority, config.SetBy(g.layers, "setup.template.priority")); err != nil {
				return err
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

// checkForeignTemplates looks for index templates of others that apply to
// procbeat's data streams. One that outranks procbeat's takes its place,
// which is said. One of Fleet's that procbeat's would outrank is Elastic
// Defend's (or another integration's) for the same data streams: at their
// next rollover its indices, Defend's own documents included, would take
// procbeat's mappings and lose its pipeline and the fields only it maps.
// That is refused unless setup.template.priority was set (prioritySetBy is
// where), which says which of the two is meant to win.
func checkForeignTemplates(ctx context.Context, cmd *cobra.Command, client esclient.Transport, bundle template.Bundle, priority int, prioritySetBy string) error {
	var patterns, ours []string
	for _, t := range bundle.IndexTemplates {
		patterns = append(patterns, t.Patterns...)
		ours = append(ours, t.Name)
	}
	foreign, err := esclient.ForeignIndexTemplates(ctx, client, patterns, ours)
	if err != nil {
		return err
	}
	var displaced []string
	for _, f := range foreign {
		switch {
		case f.Priority >= priority:
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: index template %s (priority %d, %s) outranks procbeat's (priority %d): where it applies, procbeat's mappings do not\n",
				f.Name, f.Priority, strings.Join(f.Patterns, ", "), priority)
		case f.ManagedBy == "fleet":
			displaced = append(displaced, fmt.Sprintf("%s (priority %d, %s)", f.Name, f.Priority, strings.Join(f.Patterns, ", ")))
		}
	}
	if len(displaced) == 0 || prioritySetBy != "" {
		return nil
	}
	return fmt.Errorf("Fleet's index templates %s apply to procbeat's data streams (Elastic Defend, or another integration, writes them in this cluster): "+
		"procbeat's (priority %d) would replace them at their next rollover, for their own documents too. "+
		"Set setup.template.priority to say which wins: above theirs for procbeat's mappings on these data streams, below for theirs (procbeat's documents then follow Fleet's mappings)",
		strings.Join(displaced, ", "), priority)
}
