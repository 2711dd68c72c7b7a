package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	libconfig "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"github.com/procbeat/procbeat/config"
)

func load(t *testing.T, yml string, overrides ...string) (config.Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "procbeat.yml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := libconfig.NewSettingsFlag(libconfig.NewConfig())
	for _, o := range overrides {
		if err := flags.Set(o); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := config.Read(path, flags.Config())
	if err != nil {
		return config.Config{}, err
	}
	return config.Decode(raw)
}

func TestReferenceHoldsEveryOptionAtItsDefault(t *testing.T) {
	ref, err := os.ReadFile("../procbeat.reference.yml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := load(t, string(ref))
	if err != nil {
		t.Fatalf("reference does not load: %v", err)
	}
	want := config.Default()
	es, f, c := config.DefaultElasticsearch(), config.DefaultFile(), config.DefaultConsole()
	// The console is what is left enabled: documents go to stdout.
	es.Enabled, f.Enabled = false, false
	want.Output = config.Output{Elasticsearch: &es, File: &f, Console: &c}
	want.Procbeat.Inputs = []config.Input{}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want.Path = want.Path.Effective(exe, runtime.GOOS, os.Getenv("ProgramData"))
	if !reflect.DeepEqual(normalize(got), normalize(want)) {
		t.Errorf("reference values differ from the defaults:\n got %+v\nwant %+v", got, want)
	}
	// Every key of the Config type appears in the reference file.
	for _, key := range keys(reflect.TypeOf(config.Config{}), "") {
		leaf := key[strings.LastIndexByte(key, '.')+1:]
		if !strings.Contains(string(ref), leaf+":") {
			t.Errorf("%s: not in procbeat.reference.yml", key)
		}
	}
}

// normalize sets empty slices to nil in place so that `ip: []` in a file
// equals an unset default.
func normalize(c config.Config) config.Config {
	var walk func(reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i))
			}
		case reflect.Slice:
			if v.Len() == 0 {
				v.Set(reflect.Zero(v.Type()))
			}
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(&c).Elem())
	return c
}

func keys(t reflect.Type, prefix string) []string {
	var out []string
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeOf(time.Duration(0)) {
		return nil
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := f.Tag.Get("config")
		if key == ",inline" {
			// A component's settings, keys of the section they sit in.
			out = append(out, keys(f.Type, prefix)...)
			continue
		}
		if prefix != "" {
			key = prefix + "." + key
		}
		out = append(out, key)
		out = append(out, keys(f.Type, key)...)
	}
	return out
}

func TestUnknownKeyNamesItsPath(t *testing.T) {
	_, err := load(t, "output:\n  elasticsearch:\n    hostz: [\"a:9200\"]\n")
	if err == nil || !strings.Contains(err.Error(), "output.elasticsearch") || !strings.Contains(err.Error(), "hostz") {
		t.Fatalf("want an error naming output.elasticsearch and hostz, got %v", err)
	}
}

func TestWrongTypeNamesItsPath(t *testing.T) {
	_, err := load(t, "procbeat:\n  tracker:\n    max_processes: lots\n")
	if err == nil || !strings.Contains(err.Error(), "procbeat.tracker.max_processes") {
		t.Fatalf("want an error naming procbeat.tracker.max_processes, got %v", err)
	}
}

func TestInvalidValuesNameTheirPath(t *testing.T) {
	for yml, key := range map[string]string{
		"procbeat:\n  namespace: Prod-1\n":                                                  "procbeat.namespace",
		"setup:\n  template:\n    field_types: maybe\n":                                     "setup.template.field_types",
		"setup:\n  template:\n    data_retention: forever\n":                                "setup.template.data_retention",
		"output:\n  elasticsearch:\n    compression_level: 12\n":                            "output.elasticsearch.compression_level",
		"output:\n  elasticsearch: {}\n  console: {}\n":                                     "only one output",
		"procbeat:\n  inputs:\n    - type: evtx\n":                                          "procbeat.inputs.0.paths",
		"procbeat:\n  inputs:\n    - type: pcap\n      paths: [x]\n":                        "procbeat.inputs.0.type",
		"procbeat:\n  inputs:\n    - type: xml\n      paths: [x]\n      namespace: Lab-1\n": "procbeat.inputs.0.namespace",
		"output:\n  elasticsearch:\n    api_key: nocolon\n":                                 "output.elasticsearch.api_key",
		"logging:\n  level: loud\n":                                                         "logging.level",
		"output:\n  elasticsearch:\n    ssl:\n      verification_mode: x\n":                 "output.elasticsearch.ssl.verification_mode",
		"procbeat:\n  timezone: Mars/Olympus\n":                                             "procbeat.timezone",
		"procbeat:\n  timezone: Local\n":                                                    "procbeat.timezone",
		"procbeat:\n  timezone: \"+25:00\"\n":                                               "procbeat.timezone",
	} {
		_, err := load(t, yml)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: want an error naming %s, got %v", yml, key, err)
		}
	}
}

func TestOverridesAndEnvironment(t *testing.T) {
	t.Setenv("PB_NS", "soc_lab")
	cfg, err := load(t, "procbeat:\n  namespace: ${PB_NS}\noutput:\n  elasticsearch:\n    hosts: [\"a:9200\"]\n",
		"output.elasticsearch.hosts=[\"b:9200\",\"c:9200\"]", "setup.template.data_retention=30d", "output.elasticsearch.timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Procbeat.Namespace != "soc_lab" {
		t.Errorf("namespace %q: environment not expanded", cfg.Procbeat.Namespace)
	}
	if got := cfg.Output.Elasticsearch.Hosts; !reflect.DeepEqual(got, []string{"b:9200", "c:9200"}) {
		t.Errorf("hosts %v: -E did not override", got)
	}
	if cfg.Setup.Template.DataRetention != "30d" {
		t.Errorf("retention %q", cfg.Setup.Template.DataRetention)
	}
	if cfg.Output.Elasticsearch.Timeout != 5*time.Second || cfg.Output.Elasticsearch.BulkMaxSize != 1600 {
		t.Errorf("timeout %v bulk %d: numbers are seconds and defaults stay", cfg.Output.Elasticsearch.Timeout, cfg.Output.Elasticsearch.BulkMaxSize)
	}
	if cfg.Output.File != nil {
		t.Error("file output appeared without being configured")
	}
}

func TestInputsDefaultToEnabled(t *testing.T) {
	cfg, err := load(t, "procbeat:\n  inputs:\n    - type: evtx\n      paths: [a.evtx]\n    - type: json\n      enabled: false\n      paths: [b.json]\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Procbeat.Inputs) != 2 || !cfg.Procbeat.Inputs[0].Enabled || cfg.Procbeat.Inputs[1].Enabled {
		t.Errorf("inputs %+v", cfg.Procbeat.Inputs)
	}
}

func TestWinEventLogInput(t *testing.T) {
	cfg, err := load(t, "procbeat:\n  inputs:\n    - type: wineventlog\n      channels: [Microsoft-Windows-Sysmon/Operational, Security]\n      start_at: now\n      batch_size: 50\n    - type: wineventlog\n      channels: ForwardedEvents\n")
	if err != nil {
		t.Fatal(err)
	}
	in := cfg.Procbeat.Inputs
	if len(in) != 2 || !reflect.DeepEqual(in[0].Channels, []string{"Microsoft-Windows-Sysmon/Operational", "Security"}) ||
		in[0].StartAt != "now" || in[0].BatchSize != 50 || !reflect.DeepEqual(in[1].Channels, []string{"ForwardedEvents"}) {
		t.Fatalf("inputs %+v", in)
	}
	if cfg.Procbeat.Host.RefreshFrequency != 10*time.Minute {
		t.Fatalf("refresh_frequency %v", cfg.Procbeat.Host.RefreshFrequency)
	}
	for yml, key := range map[string]string{
		"procbeat:\n  inputs:\n    - type: wineventlog\n":                                                     "procbeat.inputs.0.channels: a wineventlog input needs at least one channel",
		"procbeat:\n  inputs:\n    - type: wineventlog\n      channels: [Security, security]\n":               "procbeat.inputs.0.channels.1: channel \"security\" is listed twice",
		"procbeat:\n  inputs:\n    - type: wineventlog\n      channels: [Security]\n      paths: [x]\n":       "procbeat.inputs.0.paths",
		"procbeat:\n  inputs:\n    - type: wineventlog\n      channels: [Security]\n      start_at: end\n":    "procbeat.inputs.0.start_at",
		"procbeat:\n  inputs:\n    - type: wineventlog\n      channels: [Security]\n      batch_size: 4096\n": "procbeat.inputs.0.batch_size",
		"procbeat:\n  inputs:\n    - type: evtx\n      paths: [a]\n      channels: [Security]\n":              "procbeat.inputs.0.channels: channels, start_at and batch_size belong to wineventlog inputs",
	} {
		_, err := load(t, yml)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: want an error with %q, got %v", yml, key, err)
		}
	}
}

func TestHostIDs(t *testing.T) {
	c, err := load(t, `
procbeat.hosts:
  - {name: WKS-042.corp.example.com, id: a1}
  - {name: srv01, id: b2}
`)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.Procbeat.HostIDs(); !reflect.DeepEqual(got, map[string]string{"wks-042.corp.example.com": "a1", "srv01": "b2"}) {
		t.Errorf("HostIDs %v", got)
	}
	for yml, key := range map[string]string{
		"procbeat.hosts: [{name: a, id: x}, {name: A, id: z}]": "procbeat.hosts.1.name",
		"procbeat.hosts: [{id: x}]":                            "procbeat.hosts.0.name",
		"procbeat.hosts: [{name: a}]":                          "procbeat.hosts.0.id",
	} {
		c, err := load(t, yml)
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v, want an error naming %s", yml, err, key)
		}
	}
}

func TestPathsDefaultAsInBeats(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       config.Path
		goos, pd string
		want     config.Path
	}{
		{"home is the binary's directory", config.Path{}, "linux", "",
			config.Path{Home: "/opt/procbeat", Config: "/opt/procbeat", Data: "/opt/procbeat/data", Logs: "/opt/procbeat/logs"}},
		{"relative paths are under home", config.Path{Home: "/srv/pb", Config: "etc", Data: "state"}, "linux", "",
			config.Path{Home: "/srv/pb", Config: "/srv/pb/etc", Data: "/srv/pb/state", Logs: "/srv/pb/logs"}},
		{"windows keeps state under ProgramData", config.Path{}, "windows", "/programdata",
			config.Path{Home: "/opt/procbeat", Config: "/opt/procbeat", Data: "/programdata/procbeat/data", Logs: "/programdata/procbeat/logs"}},
		{"explicit paths win on windows", config.Path{Data: "/d"}, "windows", "/programdata",
			config.Path{Home: "/opt/procbeat", Config: "/opt/procbeat", Data: "/d", Logs: "/programdata/procbeat/logs"}},
	} {
		if got := tc.in.Effective("/opt/procbeat/procbeat", tc.goos, tc.pd); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// logging.level takes logp's level names; another is refused naming the key.
func TestLoggingLevel(t *testing.T) {
	cfg, err := load(t, "logging:\n  level: Debug\n  files.keepfiles: 3\n")
	if err != nil || cfg.Logging.Level != logp.DebugLevel || cfg.Logging.Files.MaxBackups != 3 {
		t.Fatalf("level %v, keepfiles %d, err %v", cfg.Logging.Level, cfg.Logging.Files.MaxBackups, err)
	}
	if _, err := load(t, "logging.level: loud\n"); err == nil || !strings.Contains(err.Error(), "logging.level") || !strings.Contains(err.Error(), `"loud" is not one of debug`) {
		t.Errorf("level loud: %v", err)
	}
	if _, err := load(t, "logging.files.rotateeverybytes: 0\n"); err == nil || !strings.Contains(err.Error(), "logging.files.rotateeverybytes: must be at least 1") {
		t.Errorf("rotateeverybytes 0: %v", err)
	}
}

// The output sections decode the same through the config package
// (mapstructure, which also refuses unknown keys) and through go-ucfg's
// typed unpack (how Beats and Elastic Agent code read a section): the
// components' settings sit inline in their section for both.
func TestSectionsDecodeAsGoUcfgUnpacks(t *testing.T) {
	const es = `
enabled: true
hosts: ["https://es1:9200", "es2"]
username: elastic
password: changeme
ssl.verification_mode: none
timeout: 5s
bulk_max_size: 100
worker: 3
backoff: {init: 2s, max: 10s}
dead_letter_path: /tmp/dlq.ndjson
`
	const file = "enabled: true\npath: /tmp/out\nnumber_of_files: 3\nrotate_on_startup: false\ncodec: car\n"
	const console = "enabled: true\npretty: true\nbatch_size: 10\n"
	indent := func(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ") }
	cfg, err := load(t, "output:\n  elasticsearch:\n    "+indent(es)+"\n  file:\n    enabled: false\n  console:\n    enabled: false\n")
	if err != nil {
		t.Fatal(err)
	}
	unpack := func(yml string, into any) {
		t.Helper()
		raw, err := libconfig.NewConfigWithYAML([]byte(yml), "section")
		if err != nil {
			t.Fatal(err)
		}
		if err := raw.Unpack(into); err != nil {
			t.Fatal(err)
		}
	}
	wantES := config.DefaultElasticsearch()
	unpack(es, &wantES)
	if !reflect.DeepEqual(*cfg.Output.Elasticsearch, wantES) {
		t.Errorf("output.elasticsearch:\n config %+v\n go-ucfg %+v", *cfg.Output.Elasticsearch, wantES)
	}
	if wantES.Workers != 3 || wantES.Username != "elastic" || wantES.SSL.VerificationMode != "none" || wantES.Backoff.Max != 10*time.Second {
		t.Errorf("go-ucfg did not fill the inline settings: %+v", wantES)
	}
	cfg, err = load(t, "output:\n  file:\n    "+indent(file)+"\n")
	if err != nil {
		t.Fatal(err)
	}
	wantFile := config.DefaultFile()
	unpack(file, &wantFile)
	if !reflect.DeepEqual(*cfg.Output.File, wantFile) || wantFile.NumberOfFiles != 3 || wantFile.Codec != "car" {
		t.Errorf("output.file:\n config %+v\n go-ucfg %+v", *cfg.Output.File, wantFile)
	}
	cfg, err = load(t, "output:\n  console:\n    "+indent(console)+"\n")
	if err != nil {
		t.Fatal(err)
	}
	wantConsole := config.DefaultConsole()
	unpack(console, &wantConsole)
	if !reflect.DeepEqual(*cfg.Output.Console, wantConsole) || !wantConsole.Pretty || wantConsole.BatchSize != 10 {
		t.Errorf("output.console:\n config %+v\n go-ucfg %+v", *cfg.Output.Console, wantConsole)
	}
}

// TestTimezone: procbeat.timezone takes an IANA name (daylight saving time
// included), UTC, or a fixed offset; empty leaves the zone to the records.
func TestTimezone(t *testing.T) {
	july := time.Date(2020, 7, 1, 12, 0, 0, 0, time.UTC)
	for tz, want := range map[string]int{
		"America/New_York": -4 * 3600, // in July
		"Asia/Kolkata":     5*3600 + 1800,
		"UTC":              0,
		"-04:00":           -4 * 3600,
		"+12:45":           12*3600 + 45*60,
	} {
		p := config.Procbeat{Timezone: tz}
		loc, err := p.Location()
		if err != nil || loc == nil {
			t.Errorf("%s: %v, %v", tz, loc, err)
			continue
		}
		if _, off := july.In(loc).Zone(); off != want {
			t.Errorf("%s: offset %d, want %d", tz, off, want)
		}
	}
	if loc, err := (&config.Procbeat{}).Location(); loc != nil || err != nil {
		t.Errorf("empty: %v, %v", loc, err)
	}
}
