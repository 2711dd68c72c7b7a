package beater

import (
	"errors"
	"fmt"

	"github.com/procbeat/procbeat/config"
)

// Codecs a document can be encoded with.
const (
	CodecJSON = "json" // Elastic Defend documents
	CodecCAR  = "car"  // MITRE CAR objects
)

// ErrCARToElasticsearch refuses CAR objects for the Elasticsearch output.
var ErrCARToElasticsearch = errors.New("codec car cannot be used with output.elasticsearch: that output writes the Elastic Defend data streams, where CAR objects would take the _ids of the Defend documents (so a later replay could not index those) and are not what Defend's rules and views read; send CAR to a file (output.file.codec: car) or to stdout (no output configured)")

// checkCodec refuses a codec the configured output cannot take: an unknown
// name, or CAR objects for Elasticsearch. Empty means the output's own.
func checkCodec(cfg config.Config, codec string) error {
	switch codec {
	case "", CodecJSON:
		return nil
	case CodecCAR:
		if es := cfg.Output.Elasticsearch; es != nil && es.Enabled {
			return ErrCARToElasticsearch
		}
		return nil
	}
	return fmt.Errorf("unknown codec %q (want %s or %s)", codec, CodecJSON, CodecCAR)
}
