package elasticsearch_test

import (
	"testing"

	"github.com/elastic/go-ucfg"
	"github.com/elastic/go-ucfg/yaml"

	"github.com/procbeat/procbeat/output/elasticsearch"
)

// The flat settings unpack from the output.elasticsearch section as Beats
// users write it; keys left out keep their defaults, keys that belong to
// the client (hosts, ssl) are ignored, and the nested backoff.* and
// dead_letter.path are left to the caller's config type.
func TestConfigUnpack(t *testing.T) {
	raw, err := yaml.NewConfig([]byte(`
hosts: ["https://es:9200"]
bulk_max_size: 500
worker: 4
compression_level: 0
backoff: {init: 2s, max: 30s}
dead_letter.path: /var/lib/procbeat/dead-letter.ndjson
`), ucfg.PathSep("."))
	if err != nil {
		t.Fatal(err)
	}
	cfg := elasticsearch.DefaultConfig()
	if err := raw.Unpack(&cfg); err != nil {
		t.Fatal(err)
	}
	want := elasticsearch.DefaultConfig()
	want.BulkMaxSize, want.Workers, want.CompressionLevel = 500, 4, 0
	if cfg != want {
		t.Fatalf("unpacked %+v\nwant     %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.CompressionLevel = 10
	if cfg.Validate() == nil {
		t.Error("compression_level 10 accepted")
	}
}
