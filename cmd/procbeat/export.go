package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/coverage"
	"github.com/procbeat/procbeat/fields"
	"github.com/procbeat/procbeat/fields/docs"
	"github.com/procbeat/procbeat/fields/template"
	"github.com/procbeat/procbeat/version"
)

func newExportCmd(g *globals) *cobra.Command {
	cmd := group(&cobra.Command{Use: "export", Short: "Print templates, field docs or the effective configuration"})
	var fieldTypes string
	tmpl := &cobra.Command{
		Use:   "template",
		Short: "Print the component and index templates that setup installs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load(cmd)
			if err != nil {
				return err
			}
			// The flag wins; else setup.template.field_types, where auto
			// (ask the cluster) means full, since export asks no cluster.
			choice := fieldTypes
			if choice == "" {
				choice = cfg.Setup.Template.FieldTypes
				if choice == "auto" {
					choice = "full"
				}
			}
			caps, err := capabilitiesFlag(choice)
			if err != nil {
				return err
			}
			b, err := buildTemplates(cfg.Setup.Template, caps)
			if err != nil {
				return err
			}
			for _, w := range b.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			return writeJSON(cmd, bundleJSON(b))
		},
	}
	tmpl.Flags().StringVar(&fieldTypes, "field-types", "", "full, or minimal for clusters without wildcard, constant_keyword, match_only_text and unsigned_long (default: setup.template.field_types, auto meaning full)")
	fieldsCmd := &cobra.Command{
		Use:   "fields",
		Short: "Print the field documentation (Markdown)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cat, err := fields.Load()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(docs.Markdown(cat))
			return err
		},
	}
	cfgCmd := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration: defaults, file, -E overrides, keystore and environment, secrets masked",
		Long: "Print the effective configuration: defaults, file, -E overrides, keystore and environment, secrets masked.\n" +
			"Values that `procbeat test config` refuses are printed too, then listed on stderr (exit status 1).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.decode(cmd)
			if err != nil {
				return err
			}
			tree := cfg.Tree()
			// Passwords and API keys stay out of terminals and pasted output.
			out, err := yaml.Marshal(config.MaskSecrets(tree))
			if err != nil {
				return err
			}
			if _, err := cmd.OutOrStdout().Write(out); err != nil {
				return err
			}
			// What procbeat made of the settings helps most when they are
			// refused: shown first, then why.
			if err := beater.Check(cfg); err != nil {
				printErrors(cmd, err)
				return exitError{1}
			}
			return nil
		},
	}
	cmd.AddCommand(tmpl, fieldsCmd, cfgCmd, newExportCoverageCmd(g))
	return cmd
}

func capabilitiesFlag(v string) (template.Capabilities, error) {
	switch v {
	case "full":
		return template.Full, nil
	case "minimal":
		return template.Capabilities{}, nil
	}
	return template.Capabilities{}, fmt.Errorf("--field-types %q: want full or minimal", v)
}

// buildTemplates renders the templates from the catalog and setup.template.
func buildTemplates(t config.Template, caps template.Capabilities) (template.Bundle, error) {
	cat, err := fields.Load()
	if err != nil {
		return template.Bundle{}, err
	}
	return template.Build(cat, template.Options{
		Capabilities: caps,
		Priority:     t.Priority,
		Retention:    t.DataRetention,
		Shards:       t.Shards,
		Replicas:     t.Replicas,
		Version:      version.Version,
	})
}

// bundleJSON shapes the templates like GET _component_template and GET
// _index_template answer, so the output reads like what the cluster holds.
func bundleJSON(b template.Bundle) map[string]any {
	type comp struct {
		Name string          `json:"name"`
		Body json.RawMessage `json:"component_template"`
	}
	type idx struct {
		Name string          `json:"name"`
		Body json.RawMessage `json:"index_template"`
	}
	var cs []comp
	for _, c := range b.ComponentTemplates {
		cs = append(cs, comp{c.Name, c.Body})
	}
	var is []idx
	for _, i := range b.IndexTemplates {
		is = append(is, idx{i.Name, i.Body})
	}
	return map[string]any{"component_templates": cs, "index_templates": is}
}

func writeJSON(cmd *cobra.Command, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = cmd.OutOrStdout().Write(out.Bytes())
	return err
}

func newExportCoverageCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "coverage FILE...",
		Short: "Replay files and print, per source and event type, the share of documents carrying each catalog and CAR field",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, log, closeLog, err := g.loadBatch(cmd)
			if err != nil {
				return err
			}
			defer closeLog()
			rep := coverage.New()
			b, err := beater.NewWithOutput(cmd.Context(), cfg, log, beater.DiscardOutput{}, beater.Options{Observe: rep.Add})
			if err != nil {
				return err
			}
			sum, rerr := b.Replay(cmd.Context(), args)
			if failure := jobFailure(rerr, b.Close(), nil); failure != nil {
				return failJob(cmd.ErrOrStderr(), sum, failure)
			}
			sum.Write(cmd.ErrOrStderr())
			cat, err := fields.Load()
			if err != nil {
				return err
			}
			if err := rep.Write(cmd.OutOrStdout(), cat); err != nil {
				return err
			}
			// The report covers what could be read; as with replay, a
			// script learns from the exit code (3) that input was lost.
			if code := replayExitCode(sum.InputErrors(), 0); code != ExitOK {
				return exitWith(cmd.ErrOrStderr(), code)
			}
			return nil
		},
	}
}
