package elasticsearch_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-ucfg"
	"github.com/elastic/go-ucfg/yaml"

	"github.com/procbeat/procbeat/internal/fielderr"
	"github.com/procbeat/procbeat/output/elasticsearch"
)

// The whole section unpacks with go-ucfg into one type: the connection
// settings into the inline client config, the delivery settings beside
// them, keys left out keeping their defaults.
func TestConfigUnpack(t *testing.T) {
	raw, err := yaml.NewConfig([]byte(`
hosts: ["https://es:9200"]
username: elastic
password: changeme
bulk_max_size: 500
worker: 4
compression_level: 0
backoff: {init: 2s, max: 30s}
dead_letter_path: /var/lib/procbeat/dead-letter.ndjson
`), ucfg.PathSep("."))
	if err != nil {
		t.Fatal(err)
	}
	cfg := elasticsearch.DefaultConfig()
	if err := raw.Unpack(&cfg); err != nil {
		t.Fatal(err)
	}
	want := elasticsearch.DefaultConfig()
	want.Hosts, want.Username, want.Password = []string{"https://es:9200"}, "elastic", "changeme"
	want.BulkMaxSize, want.Workers, want.CompressionLevel = 500, 4, 0
	want.Backoff = elasticsearch.Backoff{Init: 2 * time.Second, Max: 30 * time.Second}
	want.DeadLetterPath = "/var/lib/procbeat/dead-letter.ndjson"
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("unpacked %+v\nwant     %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cc := cfg.ClientConfig(); cc.CompressionLevel != 0 || cc.Username != "elastic" {
		t.Errorf("client config %+v: want the connection, compression off", cc)
	}
}

// go-ucfg runs Validate on unpack: a client setting and a delivery setting
// are both refused, each error naming its key relative to the section.
func TestValidateNamesKeys(t *testing.T) {
	raw, err := yaml.NewConfig([]byte("protocol: ftp\nworker: 0\nbackoff: {init: 2s, max: 1s}\n"), ucfg.PathSep("."))
	if err != nil {
		t.Fatal(err)
	}
	cfg := elasticsearch.DefaultConfig()
	err = raw.Unpack(&cfg)
	if err == nil {
		t.Fatal("accepted")
	}
	cfg.Protocol, cfg.Workers, cfg.Backoff.Max = "ftp", 0, time.Second
	cfg.Backoff.Init = 2 * time.Second
	var keys []string
	for _, e := range cfg.Validate().(interface{ Unwrap() []error }).Unwrap() {
		var fe *fielderr.Error
		if !errors.As(e, &fe) {
			t.Fatalf("%v: not a *fielderr.Error", e)
		}
		keys = append(keys, fe.Key)
	}
	if got := strings.Join(keys, " "); got != "protocol worker backoff.max" {
		t.Errorf("keys %q, want protocol worker backoff.max", got)
	}
}
