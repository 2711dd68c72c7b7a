// Package logging builds procbeat's logger from the logging section of the
// configuration and the -e and -d flags, as Beats 8 do: ECS JSON lines
// (go.elastic.co/ecszap, the encoder logp itself uses) to rotating files in
// path.logs by default, or to stderr; debug lines only for the selected
// components. The logger is returned, not installed as logp's global one
// for procbeat's own use.
package logging

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/elastic/elastic-agent-libs/file"
	"github.com/elastic/elastic-agent-libs/logp"
	"go.elastic.co/ecszap"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/procbeat/procbeat/config"
)

// Options are what the command line adds to the logging section.
type Options struct {
	// ToStderr is -e: everything goes to Stderr instead of files.
	ToStderr bool
	// Debug holds the -d values ("publisher,elasticsearch", "*"): each
	// names debug selectors and, as in Beats, raises the level to debug.
	Debug []string
	// Stderr is where -e and logging.to_stderr write; nil is os.Stderr.
	Stderr io.Writer
}

// Component logger names: the selectors -d and logging.selectors accept.
// Each is the name of the logger the beater hands to one component.
const (
	SelectorInput      = "input"         // sources: files opened, checkpoints resumed
	SelectorRegistrar  = "registrar"     // registry: checkpoints loaded and written
	SelectorPublisher  = "publisher"     // pipeline: batches handed to the output and acknowledged
	SelectorES         = "elasticsearch" // output.elasticsearch: bulk requests, retries, dead letters
	SelectorFile       = "file"          // output.file
	SelectorConsole    = "console"       // the console output
	SelectorMonitoring = "monitoring"    // the periodic metrics line
)

// SelectorList names every component logger, for help texts.
const SelectorList = SelectorInput + ", " + SelectorRegistrar + ", " + SelectorPublisher + ", " +
	SelectorES + ", " + SelectorFile + ", " + SelectorConsole + ", " + SelectorMonitoring

// UnknownSelectors returns the selectors that name no component logger:
// logp accepts any name, so a misspelt one silently selected nothing.
func UnknownSelectors(selectors []string) []string {
	var unknown []string
	for _, s := range selectors {
		switch s {
		case "*", SelectorInput, SelectorRegistrar, SelectorPublisher, SelectorES, SelectorFile, SelectorConsole, SelectorMonitoring:
		default:
			unknown = append(unknown, s)
		}
	}
	return unknown
}

// New returns a logger writing where cfg and o say, and the function that
// closes its file. Its entries carry service.name "procbeat"; components
// log through log.Named(selector).
func New(cfg config.Logging, paths config.Path, o Options) (*logp.Logger, func() error, error) {
	log, _, closer, err := NewLeveled(cfg, paths, o)
	return log, closer, err
}

// NewLeveled is New with the logger's level returned, to change it while
// procbeat runs (Elastic Agent sets it per unit).
func NewLeveled(cfg config.Logging, paths config.Path, o Options) (*logp.Logger, zap.AtomicLevel, func() error, error) {
	level := cfg.Level
	selectors := append([]string(nil), cfg.Selectors...)
	for _, d := range o.Debug {
		for _, s := range strings.Split(d, ",") {
			if s = strings.TrimSpace(s); s != "" {
				selectors = append(selectors, s)
			}
		}
	}
	if len(o.Debug) > 0 {
		level = logp.DebugLevel
	}
	encCfg := ecszap.ECSCompatibleEncoderConfig(logp.JSONEncoderConfig())
	enc := zapcore.NewJSONEncoder(encCfg)
	if !cfg.JSON {
		enc = zapcore.NewConsoleEncoder(ecszap.ECSCompatibleEncoderConfig(logp.ConsoleEncoderConfig()))
	}
	var ws zapcore.WriteSyncer
	closer := func() error { return nil }
	switch {
	case o.ToStderr || cfg.ToStderr:
		w := o.Stderr
		if w == nil {
			w = os.Stderr
		}
		ws = zapcore.Lock(zapcore.AddSync(w))
	case cfg.ToFiles:
		// path.logs unless logging.files.path says otherwise (relative
		// to path.home, as every relative path is).
		dir := paths.Resolve(paths.Logs)
		if cfg.Files.Path != "" {
			dir = paths.Resolve(cfg.Files.Path)
		}
		f := cfg.Files
		rot, err := file.NewFileRotator(filepath.Join(dir, f.Name),
			file.MaxBackups(f.MaxBackups), file.MaxSizeBytes(f.MaxSize), file.Permissions(os.FileMode(f.Permissions)),
			file.Interval(f.Interval), file.RotateOnStartup(f.RotateOnStartup), file.RedirectStderr(f.RedirectStderr))
		if err != nil {
			return nil, zap.AtomicLevel{}, nil, fmt.Errorf("logging.files: %w", err)
		}
		ws, closer = zapcore.AddSync(rot), rot.Close
	default:
		ws = zapcore.AddSync(io.Discard)
	}
	// ConfigureWithCoreLocal wraps the core with ecszap (ecs.version,
	// log.origin as an object) and, at debug level with selectors, with
	// logp's selective core, which passes a debug entry only when its
	// logger name is selected ("*" selects all). cleanCore escapes input
	// and hides URL passwords in every line.
	lc := logp.Config{Beat: "procbeat", Level: level, Selectors: selectors, AddCaller: true}
	atomic := zap.NewAtomicLevelAt(level.ZapLevel())
	log, err := logp.ConfigureWithCoreLocal(lc, cleanCore{zapcore.NewCore(enc, ws, atomic)})
	if err != nil {
		closer()
		return nil, zap.AtomicLevel{}, nil, err
	}
	if len(cfg.Selectors) > 0 && level != logp.DebugLevel {
		log.Warnf("logging.selectors %v apply only at logging.level: debug (or with -d); the level is %s", cfg.Selectors, cfg.Level)
	}
	if unknown := UnknownSelectors(selectors); len(unknown) > 0 {
		log.Warnf("debug selectors %s (-d, logging.selectors) name no procbeat component and select nothing: the selectors are %s, or * for all", strings.Join(unknown, ", "), SelectorList)
	}
	return log, atomic, closer, nil
}
