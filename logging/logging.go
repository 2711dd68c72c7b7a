// Package logging builds procbeat's logger from the logging section of the
// configuration, as Beats do, without touching logp's global logger.
package logging

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/elastic/elastic-agent-libs/file"
	"github.com/elastic/elastic-agent-libs/logp"
	"go.uber.org/zap/zapcore"

	"github.com/procbeat/procbeat/config"
)

// New returns a logger writing where cfg says; toStderr (the -e flag) sends
// everything to stderr instead of files.
func New(cfg config.Logging, paths config.Path, toStderr bool) (*logp.Logger, func() error, error) {
	var level logp.Level
	if err := level.Unpack(cfg.Level); err != nil {
		return nil, nil, fmt.Errorf("logging.level: %w", err)
	}
	encCfg := zapcore.EncoderConfig{
		TimeKey: "@timestamp", LevelKey: "log.level", NameKey: "log.logger", MessageKey: "message",
		CallerKey: "log.origin", EncodeTime: zapcore.ISO8601TimeEncoder, EncodeLevel: zapcore.LowercaseLevelEncoder,
		EncodeCaller: zapcore.ShortCallerEncoder, EncodeDuration: zapcore.StringDurationEncoder, LineEnding: "\n",
	}
	var enc zapcore.Encoder = zapcore.NewConsoleEncoder(encCfg)
	if cfg.JSON {
		enc = zapcore.NewJSONEncoder(encCfg)
	}
	var ws zapcore.WriteSyncer
	closer := func() error { return nil }
	switch {
	case toStderr || cfg.ToStderr:
		ws = zapcore.Lock(os.Stderr)
	case cfg.ToFiles:
		dir := cfg.Files.Path
		if dir == "" {
			dir = paths.Resolve(paths.Logs)
		}
		rot, err := file.NewFileRotator(filepath.Join(dir, cfg.Files.Name),
			file.MaxBackups(uint(cfg.Files.KeepFiles)), file.MaxSizeBytes(uint(cfg.Files.RotateEveryBytes)))
		if err != nil {
			return nil, nil, fmt.Errorf("logging.files: %w", err)
		}
		ws, closer = zapcore.AddSync(rot), rot.Close
	default:
		ws = zapcore.AddSync(discard{})
	}
	core := cleanCore{zapcore.NewCore(enc, ws, level.ZapLevel())}
	lc := logp.Config{Level: level, Selectors: cfg.Selectors}
	log, err := logp.ConfigureWithCoreLocal(lc, core)
	if err != nil {
		return nil, nil, err
	}
	return log.Named("procbeat"), closer, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
