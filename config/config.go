// Package config holds procbeat's configuration: its types and defaults, how
// procbeat.yml, -E overrides and environment variables combine, and the
// validation `procbeat test config` reports.
//
// Files and overrides are read with elastic-agent-libs config (go-ucfg: YAML,
// ${VAR} expansion, dotted keys) and decoded with mapstructure, which reports
// unknown keys and wrong types with the key's path. A component's section
// embeds the component's own configuration type (`config:",inline"`):
// its defaults and validation are the component's, its keys moved under
// the section's path (internal/fielderr).
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	libconfig "github.com/elastic/elastic-agent-libs/config"
	agentfile "github.com/elastic/elastic-agent-libs/file"
	"github.com/elastic/elastic-agent-libs/keystore"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/go-ucfg"
	"github.com/elastic/go-ucfg/parse"
	"github.com/go-viper/mapstructure/v2"

	"github.com/procbeat/procbeat/esclient"
	"github.com/procbeat/procbeat/internal/fielderr"
	"github.com/procbeat/procbeat/module/process/merge"
	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/output/console"
	esout "github.com/procbeat/procbeat/output/elasticsearch"
	"github.com/procbeat/procbeat/output/file"
)

// Config is the whole of procbeat.yml.
type Config struct {
	Procbeat Procbeat `config:"procbeat"`
	Output   Output   `config:"output"`
	Setup    Setup    `config:"setup"`
	Logging  Logging  `config:"logging"`
	HTTP     HTTP     `config:"http"`
	Path     Path     `config:"path"`
	Enrich   Enrich   `config:"enrich"`
	Keystore Keystore `config:"keystore"`
	// ShutdownTimeout is how long `run` (and an interrupted `replay`) waits
	// on stop for events in flight to be acknowledged; 0 does not wait, as
	// in Beats. What is not acknowledged is read again by the next run.
	ShutdownTimeout time.Duration `config:"shutdown_timeout"`
	// Tags and Fields label every document, as in Beats: tags go to the
	// document's tags, fields (flat key/values) to its labels.
	Tags   []string       `config:"tags"`
	Fields map[string]any `config:"fields"`
	// Management is set when Elastic Agent runs procbeat.
	Management Management `config:"management"`
	// Cloud is cloud.id and cloud.auth, as in Beats: they set
	// output.elasticsearch's hosts and credentials (see applyCloud).
	Cloud esclient.Cloud `config:"cloud"`
}

// Management is how Elastic Agent starts procbeat (-E
// management.enabled=true): the configuration then comes from the Agent's
// units, read over the connection described on standard input.
type Management struct {
	Enabled bool `config:"enabled"`
}

// Keystore locates the secrets store that ${KEY} references resolve from
// before the environment (procbeat keystore add KEY).
type Keystore struct {
	// Path is the keystore file; empty means procbeat.keystore in path.data.
	Path string `config:"path"`
}

// Procbeat holds what the process module reads and how it maps.
type Procbeat struct {
	Inputs []Input `config:"inputs"`
	// Namespace is the data stream namespace: logs-endpoint.events.process-<namespace>.
	Namespace string  `config:"namespace"`
	Host      Host    `config:"host"`
	Tracker   Tracker `config:"tracker"`
	// ScanFrequency is how often `run` looks for new and grown files.
	ScanFrequency time.Duration `config:"scan_frequency"`
	// Hosts sets host.id per host name, for replayed hosts; others get
	// an id derived from their name, this machine procbeat.host.id.
	Hosts []HostID `config:"hosts"`
	// Archives bounds what .zip, .tar.gz and .gz inputs may expand to.
	Archives Archives `config:"archives"`
	// MergeSources makes one document of a process start (end) that both
	// Sysmon 1 (5) and Security 4688 (4689) logged; false keeps both
	// documents, the Security one on the Sysmon entity id.
	MergeSources bool `config:"merge_sources"`
	// Merge bounds how long a record waits for its twin.
	Merge Merge `config:"merge"`
	// Timezone is the zone of the zone-less times in JSON exports
	// (NXLog's EventTime, OTRF's TimeCreated): an IANA name, UTC, or an
	// offset such as -04:00. Empty: the zone a record's own @timestamp
	// tells, else UTC with a notice. See Location.
	Timezone string `config:"timezone"`
}

// Location returns the zone Timezone names, nil when it is empty.
func (p *Procbeat) Location() (*time.Location, error) {
	tz := p.Timezone
	if tz == "" {
		return nil, nil
	}
	// A fixed offset: what a collector's settings or its records show
	// when its zone's name is not known.
	if len(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && tz[3] == ':' {
		t, err := time.Parse("-07:00", tz)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a zone name nor an offset such as -04:00", tz)
		}
		_, off := t.Zone()
		return time.FixedZone("UTC"+tz, off), nil
	}
	if tz == "Local" {
		// time.LoadLocation takes it for this machine's zone, which is
		// not the zone of files collected elsewhere; say so plainly.
		return nil, fmt.Errorf("%q is not accepted: name the zone of the machine that wrote the files (an IANA name such as America/New_York, or an offset such as -04:00)", tz)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("%q is not a time zone (an IANA name such as America/New_York, UTC, or an offset such as -04:00): %w", tz, err)
	}
	return loc, nil
}

// Merge bounds the pairing of Sysmon and Security records (see
// module/process/merge).
type Merge struct {
	// Tolerance is how far apart the twins' System/TimeCreated may be.
	Tolerance time.Duration `config:"tolerance"`
	// Window is how far the other source's events (and, between scans
	// and on live channels, the wall clock) move past a held record
	// before it is emitted alone.
	Window time.Duration `config:"window"`
	// MaxHeld bounds the records waiting for their twin at once.
	MaxHeld int `config:"max_held"`
}

// Archives bounds archive inputs (read streamed, never extracted): one
// that exceeds a limit is refused as an archive bomb.
type Archives struct {
	// MaxUncompressedBytes caps what one archive may decompress to.
	MaxUncompressedBytes int64 `config:"max_uncompressed_bytes"`
	// MaxRatio caps decompressed bytes per compressed byte, once an
	// archive has produced 64 MiB.
	MaxRatio int64 `config:"max_ratio"`
	// MaxDepth caps archives nested in archives.
	MaxDepth int `config:"max_depth"`
}

// HostID is the host.id of the events of one host. Name is its host.name
// (the event's Computer) or its short name, which then holds for every
// domain; case does not matter.
type HostID struct {
	Name string `config:"name"`
	ID   string `config:"id"`
}

// HostIDs returns Hosts by lower-cased name.
func (p *Procbeat) HostIDs() map[string]string {
	m := make(map[string]string, len(p.Hosts))
	for _, h := range p.Hosts {
		m[strings.ToLower(h.Name)] = h.ID
	}
	return m
}

// Input is one source of Windows events.
type Input struct {
	// Type is evtx, xml or json; the files' format is also checked per file.
	Type    string   `config:"type"`
	Enabled bool     `config:"enabled"`
	Paths   []string `config:"paths"`
	// Channels are the live event log channels a wineventlog input reads
	// (Windows only), e.g. Microsoft-Windows-Sysmon/Operational, Security,
	// ForwardedEvents.
	Channels []string `config:"channels"`
	// StartAt is where a channel without a stored bookmark starts:
	// beginning (default) or now (wineventlog).
	StartAt string `config:"start_at"`
	// BatchSize is how many records one read of a channel asks for, 1-1024
	// (wineventlog; 0 is 100).
	BatchSize int `config:"batch_size"`
	// Namespace is the data stream namespace of this input's documents;
	// empty is procbeat.namespace.
	Namespace string `config:"namespace"`
}

// Host is metadata the events cannot supply, added to every document.
type Host struct {
	ID           string   `config:"id"`
	Architecture string   `config:"architecture"`
	IP           []string `config:"ip"`
	MAC          []string `config:"mac"`
	OSVersion    string   `config:"os_version"`
	OSFull       string   `config:"os_full"`
	OSKernel     string   `config:"os_kernel"`
	OSVariant    string   `config:"os_variant"`
	// RefreshFrequency is how often the metadata of the host procbeat runs
	// on is read again when a wineventlog input reads its live channels.
	RefreshFrequency time.Duration `config:"refresh_frequency"`
}

// Tracker bounds the live-process table used for parents and ancestry.
type Tracker struct {
	MaxProcesses int `config:"max_processes"`
}

// Output selects exactly one output.
type Output struct {
	Elasticsearch *Elasticsearch `config:"elasticsearch"`
	File          *File          `config:"file"`
	Console       *Console       `config:"console"`
}

// Elasticsearch is output.elasticsearch: whether it is on, and the
// output's own configuration (esout.Config, which holds the client's
// esclient.Config inline), its defaults and validation being theirs.
type Elasticsearch struct {
	Enabled      bool `config:"enabled"`
	esout.Config `config:",inline"`
}

// File is output.file: whether it is on, the codec of its documents, and
// the file output's own configuration.
type File struct {
	Enabled     bool   `config:"enabled"`
	Codec       string `config:"codec"`
	file.Config `config:",inline"`
}

// Console is output.console: whether it is on, the codec of its
// documents, and the console output's own configuration.
type Console struct {
	Enabled        bool   `config:"enabled"`
	Codec          string `config:"codec"`
	console.Config `config:",inline"`
}

// Setup is what `procbeat setup` installs.
type Setup struct {
	Template Template `config:"template"`
	// ILM is accepted because Elastic Agent passes setup.ilm.enabled=false
	// to every Beat; procbeat's data streams use the data stream lifecycle
	// (setup.template.data_retention), never ILM, so true is refused.
	ILM ILM `config:"ilm"`
}

// ILM is setup.ilm.
type ILM struct {
	Enabled bool `config:"enabled"`
}

// Template steers the index templates.
type Template struct {
	Enabled bool `config:"enabled"`
	// FieldTypes is auto (ask the cluster), full, or minimal (no wildcard,
	// constant_keyword or match_only_text).
	FieldTypes string `config:"field_types"`
	Priority   int    `config:"priority"`
	// DataRetention is the data stream lifecycle retention, e.g. 30d; empty
	// keeps data forever.
	DataRetention string `config:"data_retention"`
	Shards        int    `config:"number_of_shards"`
	Replicas      *int   `config:"number_of_replicas"`
}

// Logging is as in Beats, with elastic-agent-libs logp's types for the
// level, the files and the metrics line. logp.Config itself is not used: it
// holds settings procbeat does not implement (to_syslog, to_eventlog,
// with_fields) and fields that are no settings (Beat, AddCaller), which
// the decoder would accept as keys.
type Logging struct {
	Level     logp.Level `config:"level"`
	ToStderr  bool       `config:"to_stderr"`
	ToFiles   bool       `config:"to_files"`
	JSON      bool       `config:"json"`
	Selectors []string   `config:"selectors"`
	// Files are the rotating log files (path defaults to path.logs).
	Files logp.FileConfig `config:"files"`
	// Metrics is the periodic metrics log line.
	Metrics logp.MetricsConfig `config:"metrics"`
}

// DefaultLogging is logp's defaults (level info, rotating files of 10 MiB,
// 7 kept, metrics every 30s), the files named procbeat, in ECS JSON as
// Beats 8 write their logs.
func DefaultLogging() Logging {
	lc := logp.DefaultConfig(logp.DefaultEnvironment)
	lc.Files.Name = "procbeat"
	return Logging{Level: lc.Level, ToStderr: lc.ToStderr, ToFiles: lc.ToFiles, JSON: true, Files: lc.Files, Metrics: lc.Metrics}
}

// HTTP is the optional monitoring endpoint.
type HTTP struct {
	Enabled bool   `config:"enabled"`
	Host    string `config:"host"`
	Port    int    `config:"port"`
}

// Path is where procbeat finds its files and keeps its state, as in Beats:
// every relative path is under Home, and each of Config, Data and Logs
// defaults from Home (see Effective).
type Path struct {
	Home   string `config:"home"`
	Config string `config:"config"`
	Data   string `config:"data"`
	Logs   string `config:"logs"`
}

// Effective fills what p leaves empty as Beats do: Home is the directory of
// the executable exe, Config is Home, Data and Logs are Home's data and logs
// directories, except on Windows, where they live under programData
// (%ProgramData%\procbeat), so that an installed service keeps its state out
// of Program Files. Relative paths are made relative to Home.
func (p Path) Effective(exe, goos, programData string) Path {
	if p.Home == "" {
		p.Home = filepath.Dir(exe)
	}
	if p.Config == "" {
		p.Config = p.Home
	}
	base := p.Home
	if goos == "windows" && programData != "" {
		base = filepath.Join(programData, "procbeat")
	}
	if p.Data == "" {
		p.Data = filepath.Join(base, "data")
	}
	if p.Logs == "" {
		p.Logs = filepath.Join(base, "logs")
	}
	p.Config, p.Data, p.Logs = p.Resolve(p.Config), p.Resolve(p.Data), p.Resolve(p.Logs)
	return p
}

// Default returns the configuration used for every key a file leaves out.
func Default() Config {
	return Config{
		Procbeat: Procbeat{
			Host:          Host{RefreshFrequency: 10 * time.Minute},
			Namespace:     "default",
			Tracker:       Tracker{MaxProcesses: tracker.DefaultMaxProcesses},
			ScanFrequency: 10 * time.Second,
			Archives: Archives{MaxUncompressedBytes: source.DefaultArchiveMaxBytes,
				MaxRatio: source.DefaultArchiveMaxRatio, MaxDepth: source.DefaultArchiveMaxDepth},
			MergeSources: true,
			Merge: Merge{Tolerance: merge.DefaultTolerance, Window: merge.DefaultWindow,
				MaxHeld: merge.DefaultMaxHeld},
		},
		Setup: Setup{Template: Template{
			Enabled:    true,
			FieldTypes: "auto",
			Priority:   210,
		}},
		Logging: DefaultLogging(),
		HTTP:    HTTP{Host: "localhost", Port: 5066},
		// Empty paths take their defaults from path.home (Path.Effective).
		Path: Path{},

		Enrich: DefaultEnrich(),
		// Beats default to 0 (no wait); procbeat has always drained for
		// 30 s on stop, and keeps that.
		ShutdownTimeout: 30 * time.Second,
	}
}

// DefaultElasticsearch is output.elasticsearch's defaults, applied when the
// section is present: the output's and the client's.
func DefaultElasticsearch() Elasticsearch {
	return Elasticsearch{Enabled: true, Config: esout.DefaultConfig()}
}

// DefaultFile is output.file's defaults.
func DefaultFile() File {
	return File{Enabled: true, Codec: "json", Config: file.DefaultConfig()}
}

// DefaultConsole is output.console's defaults.
func DefaultConsole() Console {
	return Console{Enabled: true, Codec: "json", Config: console.DefaultConfig()}
}

// Read loads the file at path (when path is not empty) and merges the
// overrides (-E flags) on top, with ${VAR} expansion from the environment.
func Read(path string, overrides *libconfig.C) (*libconfig.C, error) {
	var parts []*libconfig.C
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		c, err := libconfig.NewConfigWithYAML(raw, path)
		if err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
		parts = append(parts, c)
	}
	if overrides != nil {
		parts = append(parts, overrides)
	}
	merged, err := libconfig.MergeConfigs(parts...)
	if err != nil {
		return nil, fmt.Errorf("merging -E overrides: %w", err)
	}
	return merged, nil
}

// Decode turns a raw configuration into Config: defaults first, then every
// key the raw configuration sets. Unknown keys and wrong types are errors
// naming the key's path; then Validate checks the values.
func Decode(raw *libconfig.C) (Config, error) { return DecodeWith(raw, nil) }

// DecodeWith is Decode with ${KEY} references resolved from secrets (a
// keystore) first, then from the environment, as Beats do.
func DecodeWith(raw *libconfig.C, secrets keystore.Keystore) (Config, error) {
	cfg, err := DecodeUnchecked(raw, secrets)
	if err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// DecodeUnchecked is DecodeWith without Validate: unknown keys, wrong
// types and unresolved references are still errors, but values are not
// checked. `procbeat export config` shows with it what procbeat made of
// settings that Validate then rejects.
func DecodeUnchecked(raw *libconfig.C, secrets keystore.Keystore) (Config, error) {
	var tree map[string]any
	if err := (*ucfg.Config)(raw).Unpack(&tree, resolveOptions(secrets, nil)...); err != nil {
		if ref := unresolved(raw, secrets); ref != nil {
			return Config{}, ref
		}
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg := Default()
	if out, ok := tree["output"].(map[string]any); ok {
		// An output's own defaults apply once its section appears.
		if _, ok := out["elasticsearch"]; ok {
			es := DefaultElasticsearch()
			cfg.Output.Elasticsearch = &es
		}
		if _, ok := out["file"]; ok {
			f := DefaultFile()
			cfg.Output.File = &f
		}
		if _, ok := out["console"]; ok {
			c := DefaultConsole()
			cfg.Output.Console = &c
		}
	}
	pb, _ := tree["procbeat"].(map[string]any)
	if ins, ok := pb["inputs"].([]any); ok {
		cfg.Procbeat.Inputs = make([]Input, len(ins))
		for i := range cfg.Procbeat.Inputs {
			cfg.Procbeat.Inputs[i].Enabled = true
		}
	}
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		TagName: "config",
		// Components' settings are embedded in their section with
		// `config:",inline"` (go-ucfg's name for it).
		SquashTagOption: "inline",
		ErrorUnused:     true,
		ZeroFields:      false,
		Result:          &cfg,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			durationHook,
			levelHook,
			mapstructure.StringToTimeDurationHookFunc(),
			singleToSliceHook,
		),
	})
	if err != nil {
		return Config{}, err
	}
	if err := dec.Decode(tree); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := cfg.applyCloud(); err != nil {
		return Config{}, err
	}
	cfg.Procbeat.Host.MAC = normalMACs(cfg.Procbeat.Host.MAC)
	exe, err := os.Executable()
	if err != nil {
		return Config{}, fmt.Errorf("path.home: locating the procbeat binary: %w", err)
	}
	cfg.Path = cfg.Path.Effective(exe, runtime.GOOS, os.Getenv("ProgramData"))
	return cfg, nil
}

// durationHook accepts plain numbers as seconds, as Beats does.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(time.Duration(0)) {
		return data, nil
	}
	switch v := data.(type) {
	case int64:
		return time.Duration(v) * time.Second, nil
	case uint64:
		return time.Duration(v) * time.Second, nil
	case float64:
		return time.Duration(v * float64(time.Second)), nil
	}
	return data, nil
}

// levelHook decodes logging.level with logp's names.
func levelHook(from, to reflect.Type, data any) (any, error) {
	s, ok := data.(string)
	if to != reflect.TypeOf(logp.Level(0)) || !ok {
		return data, nil
	}
	var l logp.Level
	if err := l.Unpack(s); err != nil {
		return nil, fmt.Errorf("%q is not one of debug, info, warning, error, critical", s)
	}
	return l, nil
}

// singleToSliceHook lets `hosts: "a:9200"` stand for a one-element list.
func singleToSliceHook(from, to reflect.Type, data any) (any, error) {
	if to.Kind() == reflect.Slice && to.Elem().Kind() == reflect.String && from.Kind() == reflect.String {
		return []string{data.(string)}, nil
	}
	return data, nil
}

// validNamespace is Elasticsearch's rule for the namespace part of a data
// stream name (`^[a-z0-9_]{1,100}$`): lower case, no '-', no characters an
// index name forbids. A loop, not that regexp: compiling its {1,100} at
// package initialisation cost every command about 0.4 ms and 1,100
// allocations.
func validNamespace(s string) bool {
	if len(s) < 1 || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

var retentionRE = regexp.MustCompile(`^[0-9]+(d|h|m|s|ms)$`)

// FieldError is an invalid value at a key path.
type FieldError = fielderr.Error

func bad(key, format string, args ...any) error {
	return &FieldError{Key: key, Err: fmt.Errorf(format, args...)}
}

// Validate checks values the types alone cannot.
func (c *Config) Validate() error {
	var errs []error
	if !validNamespace(c.Procbeat.Namespace) {
		errs = append(errs, bad("procbeat.namespace", "%q must be 1-100 of a-z, 0-9 and _ (no '-')", c.Procbeat.Namespace))
	}
	if c.Procbeat.ScanFrequency < time.Second {
		errs = append(errs, bad("procbeat.scan_frequency", "must be at least 1s, got %s", c.Procbeat.ScanFrequency))
	}
	if c.Procbeat.Tracker.MaxProcesses < 1 {
		errs = append(errs, bad("procbeat.tracker.max_processes", "must be at least 1, got %d", c.Procbeat.Tracker.MaxProcesses))
	}
	if a := c.Procbeat.Archives; a.MaxUncompressedBytes < 1 || a.MaxRatio < 1 || a.MaxDepth < 1 {
		errs = append(errs, bad("procbeat.archives", "max_uncompressed_bytes, max_ratio and max_depth must be at least 1, got %d, %d, %d", a.MaxUncompressedBytes, a.MaxRatio, a.MaxDepth))
	}
	if m := c.Procbeat.Merge; m.Tolerance <= 0 || m.Window < m.Tolerance || m.MaxHeld < 1 {
		errs = append(errs, bad("procbeat.merge", "tolerance must be positive, window at least tolerance, max_held at least 1, got %s, %s, %d", m.Tolerance, m.Window, m.MaxHeld))
	}
	if _, err := c.Procbeat.Location(); err != nil {
		errs = append(errs, &FieldError{Key: "procbeat.timezone", Err: err})
	}
	seenHosts := make(map[string]bool, len(c.Procbeat.Hosts))
	for i, h := range c.Procbeat.Hosts {
		key := fmt.Sprintf("procbeat.hosts.%d", i)
		switch name := strings.ToLower(h.Name); {
		case name == "":
			errs = append(errs, bad(key+".name", "a host name is required"))
		case seenHosts[name]:
			errs = append(errs, bad(key+".name", "%q is listed twice", h.Name))
		default:
			seenHosts[name] = true
		}
		if h.ID == "" {
			errs = append(errs, bad(key+".id", "an id is required"))
		}
	}
	for i, in := range c.Procbeat.Inputs {
		key := fmt.Sprintf("procbeat.inputs.%d", i)
		switch in.Type {
		case "evtx", "xml", "json":
			if len(in.Paths) == 0 {
				errs = append(errs, bad(key+".paths", "an input of type %s needs at least one path", in.Type))
			}
			if len(in.Channels) > 0 || in.StartAt != "" || in.BatchSize != 0 {
				errs = append(errs, bad(key+".channels", "channels, start_at and batch_size belong to wineventlog inputs, not %s", in.Type))
			}
		case "wineventlog":
			errs = append(errs, validateWinEventLog(key, in)...)
		default:
			errs = append(errs, bad(key+".type", "%q is not one of evtx, xml, json, wineventlog", in.Type))
		}
		if in.Namespace != "" && !validNamespace(in.Namespace) {
			errs = append(errs, bad(key+".namespace", "%q must be 1-100 of a-z, 0-9 and _ (no '-')", in.Namespace))
		}
	}
	errs = append(errs, c.Enrich.validate()...)
	if c.ShutdownTimeout < 0 {
		errs = append(errs, bad("shutdown_timeout", "must not be negative, got %s", c.ShutdownTimeout))
	}
	// Each output validates its own section; its keys are moved under
	// the section's path.
	enabled := 0
	if es := c.Output.Elasticsearch; es != nil && es.Enabled {
		enabled++
		errs = append(errs, fielderr.Under("output.elasticsearch", es.Validate()))
	}
	if f := c.Output.File; f != nil && f.Enabled {
		enabled++
		errs = append(errs, fielderr.Under("output.file", f.Validate()))
	}
	if f := c.Output.File; f != nil && !validCodec(f.Codec) {
		errs = append(errs, bad("output.file.codec", "%q is not one of json, car", f.Codec))
	}
	if cn := c.Output.Console; cn != nil && !validCodec(cn.Codec) {
		errs = append(errs, bad("output.console.codec", "%q is not one of json, car", cn.Codec))
	}
	if cn := c.Output.Console; cn != nil && cn.Enabled {
		enabled++
		errs = append(errs, fielderr.Under("output.console", cn.Validate()))
	}
	if enabled > 1 {
		errs = append(errs, bad("output", "only one output may be enabled, %d are", enabled))
	}
	// Without any output section documents go to stdout; a console turned
	// off with nothing else on would send them nowhere.
	if cn := c.Output.Console; enabled == 0 && cn != nil && !cn.Enabled {
		errs = append(errs, bad("output.console.enabled", "is false and no other output is enabled: documents would go nowhere"))
	}
	t := c.Setup.Template
	switch t.FieldTypes {
	case "auto", "full", "minimal":
	default:
		errs = append(errs, bad("setup.template.field_types", "%q is not one of auto, full, minimal", t.FieldTypes))
	}
	if t.DataRetention != "" && !retentionRE.MatchString(t.DataRetention) {
		errs = append(errs, bad("setup.template.data_retention", "%q is not a duration such as 30d", t.DataRetention))
	}
	if c.Setup.ILM.Enabled {
		errs = append(errs, bad("setup.ilm.enabled", "procbeat does not use ILM (its data streams use setup.template.data_retention); only false is accepted"))
	}
	if t.Priority < 0 {
		errs = append(errs, bad("setup.template.priority", "must not be negative"))
	}
	if f := c.Logging.Files; f.MaxSize < 1 {
		errs = append(errs, bad("logging.files.rotateeverybytes", "must be at least 1, got %d", f.MaxSize))
	}
	if f := c.Logging.Files; f.MaxBackups > agentfile.MaxBackupsLimit {
		errs = append(errs, bad("logging.files.keepfiles", "must be at most %d, got %d", agentfile.MaxBackupsLimit, f.MaxBackups))
	}
	if p := c.Logging.Files.Permissions; p == 0 || p > uint32(os.ModePerm) {
		errs = append(errs, bad("logging.files.permissions", "%#o: want file permission bits such as 0600", p))
	}
	if c.Logging.Files.Interval < 0 {
		errs = append(errs, bad("logging.files.interval", "must not be negative, got %s", c.Logging.Files.Interval))
	}
	if c.Logging.Metrics.Enabled && c.Logging.Metrics.Period <= 0 {
		errs = append(errs, bad("logging.metrics.period", "must be positive, got %s", c.Logging.Metrics.Period))
	}
	if c.Procbeat.Host.RefreshFrequency < 0 {
		errs = append(errs, bad("procbeat.host.refresh_frequency", "must not be negative"))
	}
	if c.HTTP.Port < 0 || c.HTTP.Port > 65535 {
		errs = append(errs, bad("http.port", "must be 0-65535, got %d", c.HTTP.Port))
	}
	errs = append(errs, c.labelErrors()...)
	errs = append(errs, c.Procbeat.Host.hostAddressErrors()...)
	errs = append(errs, c.settingErrors()...)
	return errors.Join(errs...)
}

func validCodec(c string) bool { return c == "json" || c == "car" }

// Resolve returns dir under path.home unless it is absolute.
func (p Path) Resolve(dir string) string {
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(p.Home, dir)
}

// validateWinEventLog checks a wineventlog input: channels and no paths.
func validateWinEventLog(key string, in Input) []error {
	var errs []error
	if len(in.Channels) == 0 {
		errs = append(errs, bad(key+".channels", "a wineventlog input needs at least one channel"))
	}
	seen := map[string]bool{}
	for j, ch := range in.Channels {
		switch {
		case strings.TrimSpace(ch) == "":
			errs = append(errs, bad(fmt.Sprintf("%s.channels.%d", key, j), "empty channel name"))
		case seen[strings.ToLower(ch)]:
			errs = append(errs, bad(fmt.Sprintf("%s.channels.%d", key, j), "channel %q is listed twice", ch))
		}
		seen[strings.ToLower(ch)] = true
	}
	if len(in.Paths) > 0 {
		errs = append(errs, bad(key+".paths", "a wineventlog input reads channels, not paths"))
	}
	switch in.StartAt {
	case "", "beginning", "now":
	default:
		errs = append(errs, bad(key+".start_at", "%q is not one of beginning, now", in.StartAt))
	}
	if in.BatchSize < 0 || in.BatchSize > 1024 {
		errs = append(errs, bad(key+".batch_size", "must be 1-1024, got %d", in.BatchSize))
	}
	return errs
}

// resolveOptions are go-ucfg's options for ${KEY} expansion. go-ucfg tries
// resolvers from the last added to the first: the keystore, when there is
// one, before the environment, and last of all the fallback (nil: none).
func resolveOptions(secrets keystore.Keystore, fallback func(string) (string, parse.Config, error)) []ucfg.Option {
	opts := []ucfg.Option{ucfg.PathSep("."), ucfg.VarExp}
	if fallback != nil {
		opts = append(opts, ucfg.Resolve(fallback))
	}
	opts = append(opts, ucfg.ResolveEnv)
	if secrets != nil {
		opts = append(opts, ucfg.Resolve(keystore.ResolverWrap(secrets)))
	}
	return opts
}

// unresolved finds the first key whose ${VAR} reference nothing resolves
// and names both: go-ucfg's own error names only the enclosing section. A
// fallback resolver, tried after all others, records the names they missed.
func unresolved(raw *libconfig.C, secrets keystore.Keystore) error {
	for _, key := range raw.FlattenedKeys() {
		var missed []string
		record := func(name string) (string, parse.Config, error) {
			if !slices.Contains(missed, name) { // go-ucfg may ask twice
				missed = append(missed, name)
			}
			return "", parse.NoopConfig, ucfg.ErrMissing
		}
		_, err := (*ucfg.Config)(raw).String(key, -1, resolveOptions(secrets, record)...)
		if err == nil || len(missed) == 0 {
			continue
		}
		where := "the environment"
		if secrets != nil {
			where = "the keystore nor the environment"
		}
		refs := make([]string, len(missed))
		for i, m := range missed {
			refs[i] = "${" + m + "}"
		}
		return &FieldError{Key: key, Err: fmt.Errorf("%s: not set in %s", strings.Join(refs, ", "), strings.Replace(where, "the keystore nor", "neither the keystore nor", 1))}
	}
	return nil
}

// KeystoreFile is the keystore raw's configuration names: keystore.path, or
// procbeat.keystore in path.data (under path.home). It reads those keys
// alone, so it works before the secrets they unlock are resolved.
func KeystoreFile(raw *libconfig.C) (string, error) {
	var sel struct {
		Keystore Keystore `config:"keystore"`
		Path     Path     `config:"path"`
	}
	if err := raw.Unpack(&sel); err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("path.home: locating the procbeat binary: %w", err)
	}
	paths := sel.Path.Effective(exe, runtime.GOOS, os.Getenv("ProgramData"))
	if sel.Keystore.Path != "" {
		return paths.Resolve(sel.Keystore.Path), nil
	}
	return filepath.Join(paths.Data, "procbeat.keystore"), nil
}

// CheckPermissions refuses a configuration file that users other than its
// owner may write, or that belongs to neither the user running procbeat nor
// root: whoever can change it decides what procbeat reads and where it
// sends it. --strict.perms=false turns the check off, as in Beats.
func CheckPermissions(path string, st os.FileInfo) error {
	if runtime.GOOS == "windows" {
		return nil // ACLs, not mode bits, govern files there
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("config file %s can be written by users other than its owner (mode %v): run chmod go-w %s, or start with --strict.perms=false", path, st.Mode().Perm(), path)
	}
	if uid, ok := fileOwner(st); ok && uid != 0 && uid != os.Geteuid() {
		return fmt.Errorf("config file %s belongs to uid %d, not to the user running procbeat (uid %d) or root: change its owner, or start with --strict.perms=false", path, uid, os.Geteuid())
	}
	return nil
}

// Enrich is what procbeat reads from the executables processes ran from:
// hashes, PE facts, code signatures, file times (module/process/enrich/image).
type Enrich struct {
	// Enabled reads the files: from ImageRoot when it is set, else from
	// the live file system when procbeat runs on Windows (for events of
	// this host only). Without either there is nothing to read.
	Enabled bool `config:"enabled"`
	// ImageRoot is a mounted disk image or extracted triage collection
	// holding drive C:'s files (C:\Windows → <image_root>/Windows).
	ImageRoot string `config:"image_root"`
	// Drives maps further drive letters to directories (relative ones are
	// taken inside image_root).
	Drives map[string]string `config:"drives"`
	// Hosts are the host names the image belongs to; empty means every
	// host of the replayed events.
	Hosts []string `config:"hosts"`
	// TrustedRoots are PEM files of the certificate roots signatures must
	// chain to (for Windows binaries: Microsoft's code-signing roots).
	TrustedRoots []string `config:"trusted_roots"`
	// SystemRoots adds the operating system's root pool.
	SystemRoots bool `config:"system_roots"`
	// MaxFileSize is the largest executable read, in bytes.
	MaxFileSize int64 `config:"max_file_size"`
	// Budget is the longest a document waits for its executable to be read.
	Budget time.Duration `config:"budget"`
	// CacheSize is how many files' results are remembered.
	CacheSize int `config:"cache_size"`
	// MaxCatalogBytes bounds the catalog files (System32\CatRoot) read.
	MaxCatalogBytes int64 `config:"max_catalog_bytes"`
	// Readers is how many files are read at once.
	Readers int `config:"readers"`
	// Timelines are body files (The Sleuth Kit's format: fls -m, MFTECmd
	// --body) of the image's NTFS times: the source of file creation and
	// file-name change times for files copied out of an image.
	Timelines []string `config:"timelines"`
	// MaxTimelineFiles bounds the files kept from the timelines.
	MaxTimelineFiles int `config:"max_timeline_files"`
}

// DefaultEnrich is the enrich section's defaults.
func DefaultEnrich() Enrich {
	return Enrich{Enabled: true, SystemRoots: true, MaxFileSize: 64 << 20, Budget: 2 * time.Second,
		CacheSize: 4096, MaxCatalogBytes: 512 << 20, Readers: 2, MaxTimelineFiles: 2000000}
}

func (e Enrich) validate() []error {
	var errs []error
	if e.ImageRoot != "" {
		if fi, err := os.Stat(e.ImageRoot); err != nil || !fi.IsDir() {
			errs = append(errs, bad("enrich.image_root", "%q is not a directory", e.ImageRoot))
		}
	}
	for _, f := range e.TrustedRoots {
		if _, err := os.Stat(f); err != nil {
			errs = append(errs, bad("enrich.trusted_roots", "%v", err))
		}
	}
	for _, f := range e.Timelines {
		if _, err := os.Stat(f); err != nil {
			errs = append(errs, bad("enrich.timelines", "%v", err))
		}
	}
	if e.MaxFileSize < 1 || e.CacheSize < 1 || e.MaxCatalogBytes < 1 || e.Readers < 1 || e.Budget <= 0 || e.MaxTimelineFiles < 1 {
		errs = append(errs, bad("enrich", "max_file_size, cache_size, max_catalog_bytes, readers, budget and max_timeline_files must be positive"))
	}
	return errs
}
