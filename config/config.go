// Package config holds procbeat's configuration: its types and defaults, how
// procbeat.yml, -E overrides and environment variables combine, and the
// validation `procbeat test config` reports.
//
// Files and overrides are read with elastic-agent-libs config (go-ucfg: YAML,
// ${VAR} expansion, dotted keys) and decoded with mapstructure, which reports
// unknown keys and wrong types with the key's path.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"time"

	libconfig "github.com/elastic/elastic-agent-libs/config"
	"github.com/go-viper/mapstructure/v2"
)

// Config is the whole of procbeat.yml.
type Config struct {
	Procbeat Procbeat `config:"procbeat"`
	Output   Output   `config:"output"`
	Setup    Setup    `config:"setup"`
	Logging  Logging  `config:"logging"`
	HTTP     HTTP     `config:"http"`
	Path     Path     `config:"path"`
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

// Elasticsearch is output.elasticsearch.
type Elasticsearch struct {
	Enabled          bool          `config:"enabled"`
	Hosts            []string      `config:"hosts"`
	Protocol         string        `config:"protocol"`
	Path             string        `config:"path"`
	Username         string        `config:"username"`
	Password         string        `config:"password"`
	APIKey           string        `config:"api_key"`
	SSL              SSL           `config:"ssl"`
	Timeout          time.Duration `config:"timeout"`
	CompressionLevel int           `config:"compression_level"`
	BulkMaxSize      int           `config:"bulk_max_size"`
	FlushInterval    time.Duration `config:"flush_interval"`
	Backoff          Backoff       `config:"backoff"`
	// MaxBytesInFlight bounds encoded bytes waiting for acknowledgement.
	MaxBytesInFlight int `config:"max_bytes_in_flight"`
	// DeadLetterPath receives documents Elasticsearch rejects for good.
	DeadLetterPath string `config:"dead_letter_path"`
}

// SSL configures TLS to Elasticsearch.
type SSL struct {
	CertificateAuthorities []string `config:"certificate_authorities"`
	CATrustedFingerprint   string   `config:"ca_trusted_fingerprint"`
	VerificationMode       string   `config:"verification_mode"`
}

// Backoff is the retry backoff.
type Backoff struct {
	Init time.Duration `config:"init"`
	Max  time.Duration `config:"max"`
}

// File is output.file.
type File struct {
	Enabled       bool   `config:"enabled"`
	Path          string `config:"path"`
	Filename      string `config:"filename"`
	RotateEveryKB int    `config:"rotate_every_kb"`
	NumberOfFiles int    `config:"number_of_files"`
	Permissions   uint32 `config:"permissions"`
	Codec         string `config:"codec"`
}

// Console is output.console.
type Console struct {
	Enabled bool   `config:"enabled"`
	Pretty  bool   `config:"pretty"`
	Codec   string `config:"codec"`
}

// Setup is what `procbeat setup` installs.
type Setup struct {
	Template Template `config:"template"`
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

// Logging is as in Beats.
type Logging struct {
	Level     string   `config:"level"`
	ToStderr  bool     `config:"to_stderr"`
	ToFiles   bool     `config:"to_files"`
	JSON      bool     `config:"json"`
	Selectors []string `config:"selectors"`
	Files     LogFiles `config:"files"`
	Metrics   Metrics  `config:"metrics"`
}

// LogFiles is logging.files.
type LogFiles struct {
	Path             string `config:"path"`
	Name             string `config:"name"`
	KeepFiles        int    `config:"keepfiles"`
	RotateEveryBytes int    `config:"rotateeverybytes"`
}

// Metrics is the periodic metrics log line.
type Metrics struct {
	Enabled bool          `config:"enabled"`
	Period  time.Duration `config:"period"`
}

// HTTP is the optional monitoring endpoint.
type HTTP struct {
	Enabled bool   `config:"enabled"`
	Host    string `config:"host"`
	Port    int    `config:"port"`
}

// Path is where procbeat keeps its state.
type Path struct {
	Home string `config:"home"`
	Data string `config:"data"`
	Logs string `config:"logs"`
}

// Default returns the configuration used for every key a file leaves out.
func Default() Config {
	return Config{
		Procbeat: Procbeat{
			Host:          Host{RefreshFrequency: 10 * time.Minute},
			Namespace:     "default",
			Tracker:       Tracker{MaxProcesses: 100000},
			ScanFrequency: 10 * time.Second,
		},
		Setup: Setup{Template: Template{
			Enabled:    true,
			FieldTypes: "auto",
			Priority:   210,
		}},
		Logging: Logging{
			Level:   "info",
			ToFiles: true,
			Files:   LogFiles{Name: "procbeat", KeepFiles: 7, RotateEveryBytes: 10 * 1024 * 1024},
			Metrics: Metrics{Enabled: true, Period: 30 * time.Second},
		},
		HTTP: HTTP{Host: "localhost", Port: 5066},
		Path: Path{Home: ".", Data: "data", Logs: "logs"},
	}
}

// DefaultElasticsearch is output.elasticsearch's defaults, applied when the
// section is present.
func DefaultElasticsearch() Elasticsearch {
	return Elasticsearch{
		Enabled:          true,
		Hosts:            []string{"localhost:9200"},
		Timeout:          90 * time.Second,
		CompressionLevel: 1,
		BulkMaxSize:      1600,
		FlushInterval:    time.Second,
		Backoff:          Backoff{Init: time.Second, Max: 60 * time.Second},
		MaxBytesInFlight: 32 << 20,
		SSL:              SSL{VerificationMode: "full"},
	}
}

// DefaultFile is output.file's defaults.
func DefaultFile() File {
	return File{Enabled: true, Path: "procbeat-out", Filename: "procbeat", RotateEveryKB: 10240, NumberOfFiles: 7, Permissions: 0o600, Codec: "json"}
}

// DefaultConsole is output.console's defaults.
func DefaultConsole() Console { return Console{Enabled: true, Codec: "json"} }

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
func Decode(raw *libconfig.C) (Config, error) {
	var tree map[string]any
	if err := raw.Unpack(&tree); err != nil {
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
		TagName:     "config",
		ErrorUnused: true,
		ZeroFields:  false,
		Result:      &cfg,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			durationHook,
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
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
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

// singleToSliceHook lets `hosts: "a:9200"` stand for a one-element list.
func singleToSliceHook(from, to reflect.Type, data any) (any, error) {
	if to.Kind() == reflect.Slice && to.Elem().Kind() == reflect.String && from.Kind() == reflect.String {
		return []string{data.(string)}, nil
	}
	return data, nil
}

// namespaceRE is Elasticsearch's rule for the namespace part of a data
// stream name: lower case, no '-', no characters an index name forbids.
var namespaceRE = regexp.MustCompile(`^[a-z0-9_]{1,100}$`)

var retentionRE = regexp.MustCompile(`^[0-9]+(d|h|m|s|ms)$`)

// FieldError is an invalid value at a key path.
type FieldError struct {
	Key string
	Err error
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func bad(key, format string, args ...any) error {
	return &FieldError{Key: key, Err: fmt.Errorf(format, args...)}
}

// Validate checks values the types alone cannot.
func (c *Config) Validate() error {
	var errs []error
	if !namespaceRE.MatchString(c.Procbeat.Namespace) {
		errs = append(errs, bad("procbeat.namespace", "%q must be 1-100 of a-z, 0-9 and _ (no '-')", c.Procbeat.Namespace))
	}
	if c.Procbeat.ScanFrequency < time.Second {
		errs = append(errs, bad("procbeat.scan_frequency", "must be at least 1s, got %s", c.Procbeat.ScanFrequency))
	}
	if c.Procbeat.Tracker.MaxProcesses < 1 {
		errs = append(errs, bad("procbeat.tracker.max_processes", "must be at least 1, got %d", c.Procbeat.Tracker.MaxProcesses))
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
	}
	enabled := 0
	if es := c.Output.Elasticsearch; es != nil && es.Enabled {
		enabled++
		if len(es.Hosts) == 0 {
			errs = append(errs, bad("output.elasticsearch.hosts", "at least one host is required"))
		}
		if es.APIKey != "" && (es.Username != "" || es.Password != "") {
			errs = append(errs, bad("output.elasticsearch.api_key", "set either api_key or username/password, not both"))
		}
		if es.APIKey != "" && !strings.Contains(es.APIKey, ":") {
			errs = append(errs, bad("output.elasticsearch.api_key", "must be id:api_key"))
		}
		switch es.SSL.VerificationMode {
		case "full", "none":
		default:
			errs = append(errs, bad("output.elasticsearch.ssl.verification_mode", "%q is not one of full, none", es.SSL.VerificationMode))
		}
		if fp := es.SSL.CATrustedFingerprint; fp != "" && !regexp.MustCompile(`^[0-9A-Fa-f:]{64,95}$`).MatchString(fp) {
			errs = append(errs, bad("output.elasticsearch.ssl.ca_trusted_fingerprint", "must be a hex SHA-256 fingerprint"))
		}
		if es.CompressionLevel < 0 || es.CompressionLevel > 9 {
			errs = append(errs, bad("output.elasticsearch.compression_level", "must be 0-9, got %d", es.CompressionLevel))
		}
		if es.BulkMaxSize < 1 {
			errs = append(errs, bad("output.elasticsearch.bulk_max_size", "must be at least 1, got %d", es.BulkMaxSize))
		}
		if es.MaxBytesInFlight < 1<<20 {
			errs = append(errs, bad("output.elasticsearch.max_bytes_in_flight", "must be at least 1 MiB, got %d", es.MaxBytesInFlight))
		}
	}
	if f := c.Output.File; f != nil && f.Enabled {
		enabled++
		if f.Path == "" || f.Filename == "" {
			errs = append(errs, bad("output.file.path", "path and filename are required"))
		}
		if f.NumberOfFiles < 2 || f.NumberOfFiles > 1024 {
			errs = append(errs, bad("output.file.number_of_files", "must be 2-1024, got %d", f.NumberOfFiles))
		}
	}
	if f := c.Output.File; f != nil && !validCodec(f.Codec) {
		errs = append(errs, bad("output.file.codec", "%q is not one of json, car", f.Codec))
	}
	if cn := c.Output.Console; cn != nil && !validCodec(cn.Codec) {
		errs = append(errs, bad("output.console.codec", "%q is not one of json, car", cn.Codec))
	}
	if c.Output.Console != nil && c.Output.Console.Enabled {
		enabled++
	}
	if enabled > 1 {
		errs = append(errs, bad("output", "only one output may be enabled, %d are", enabled))
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
	if t.Priority < 0 {
		errs = append(errs, bad("setup.template.priority", "must not be negative"))
	}
	switch c.Logging.Level {
	case "debug", "info", "warning", "error", "critical":
	default:
		errs = append(errs, bad("logging.level", "%q is not one of debug, info, warning, error, critical", c.Logging.Level))
	}
	if c.Procbeat.Host.RefreshFrequency < 0 {
		errs = append(errs, bad("procbeat.host.refresh_frequency", "must not be negative"))
	}
	if c.HTTP.Port < 0 || c.HTTP.Port > 65535 {
		errs = append(errs, bad("http.port", "must be 0-65535, got %d", c.HTTP.Port))
	}
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
