//go:build agent

package agent

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	libconfig "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/keystore"

	"github.com/procbeat/procbeat/config"
)

// InputTypePrefix starts the type of every procbeat input unit
// (procbeat.spec.yml): procbeat/evtx is an input of type evtx.
const InputTypePrefix = "procbeat/"

// decoder turns unit configurations into procbeat's configuration, with
// the same decoding and validation as procbeat.yml, on top of the settings
// of the command line (paths, logging, procbeat.namespace).
type decoder struct {
	base    *libconfig.C
	secrets keystore.Keystore
}

// decode merges units (a partial procbeat.yml tree) over the base and
// decodes the whole.
func (d decoder) decode(units map[string]any) (config.Config, error) {
	raw, err := libconfig.MergeConfigs(d.base)
	if err != nil {
		return config.Config{}, err
	}
	// Under Agent, inputs and outputs come from the units alone, whatever
	// a procbeat.yml beside the binary says.
	if _, err := raw.Remove("output", -1); err != nil {
		return config.Config{}, err
	}
	if raw.HasField("procbeat") {
		pb, err := raw.Child("procbeat", -1)
		if err != nil {
			return config.Config{}, err
		}
		if _, err := pb.Remove("inputs", -1); err != nil {
			return config.Config{}, err
		}
		if err := raw.SetChild("procbeat", -1, pb); err != nil {
			return config.Config{}, err
		}
	}
	u, err := libconfig.NewConfigFrom(units)
	if err != nil {
		return config.Config{}, err
	}
	merged, err := libconfig.MergeConfigs(raw, u)
	if err != nil {
		return config.Config{}, err
	}
	return config.DecodeWith(merged, d.secrets)
}

// output decodes an output unit's source: an elasticsearch output whose
// keys are output.elasticsearch's.
func (d decoder) output(src map[string]any) (config.Config, error) {
	src = maps.Clone(src)
	if t, _ := src["type"].(string); t != "elasticsearch" {
		return config.Config{}, fmt.Errorf("output type %q: procbeat ships to elasticsearch only", src["type"])
	}
	delete(src, "type")
	return d.decode(map[string]any{"output": map[string]any{"elasticsearch": src}})
}

// agentKeys are the keys Agent adds to every input unit's source; they say
// where the unit comes from, not how to read.
var agentKeys = []string{"id", "name", "revision", "type", "use_output", "meta", "data_stream", "package_policy_id", "policy"}

// input decodes an input unit's source into procbeat inputs: one per
// stream, each stream's keys being a procbeat.inputs entry's (paths), or,
// without streams, the unit's own keys as one input. The unit's
// data_stream.namespace (a stream's own, if it has one) is its documents'
// namespace.
func (d decoder) input(unitType string, src map[string]any) ([]config.Input, error) {
	typ, ok := strings.CutPrefix(unitType, InputTypePrefix)
	if !ok {
		return nil, fmt.Errorf("input type %q: procbeat's input types start with %s", unitType, InputTypePrefix)
	}
	ns := namespace(src)
	var entries []any
	if streams, ok := src["streams"].([]any); ok {
		for i, s := range streams {
			m, ok := s.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("streams.%d: not a mapping", i)
			}
			m = maps.Clone(m)
			streamNS := namespace(m)
			delete(m, "id")
			delete(m, "data_stream")
			m["type"] = typ
			if streamNS == nil {
				streamNS = ns
			}
			if streamNS != nil {
				m["namespace"] = streamNS
			}
			entries = append(entries, m)
		}
	} else {
		m := maps.Clone(src)
		for _, k := range agentKeys {
			delete(m, k)
		}
		m["type"] = typ
		if ns != nil {
			m["namespace"] = ns
		}
		entries = append(entries, m)
	}
	if len(entries) == 0 {
		return nil, errors.New("streams: an input unit needs at least one stream")
	}
	rest := maps.Clone(src)
	for _, k := range append(agentKeys, "streams") {
		delete(rest, k)
	}
	if _, hasStreams := src["streams"]; hasStreams && len(rest) > 0 {
		return nil, fmt.Errorf("%s: unknown key beside streams", strings.Join(slices.Sorted(maps.Keys(rest)), ", "))
	}
	cfg, err := d.decode(map[string]any{"procbeat": map[string]any{"inputs": entries}})
	if err != nil {
		return nil, err
	}
	return cfg.Procbeat.Inputs, nil
}

// namespace is src's data_stream.namespace, nil without one. Any other
// value than a string is left to the configuration's validation.
func namespace(src map[string]any) any {
	if ds, ok := src["data_stream"].(map[string]any); ok {
		return ds["namespace"]
	}
	return nil
}
