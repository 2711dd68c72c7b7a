package main

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/procbeat/procbeat/beater"
)

// aboveProgress makes every log entry print above p's bar instead of into
// its line: the logger's core writes through p.Above.
func aboveProgress(p *beater.Progress) zap.Option {
	return zap.WrapCore(func(c zapcore.Core) zapcore.Core { return progressCore{Core: c, p: p} })
}

// progressCore is a zapcore.Core whose writes go through Progress.Above.
type progressCore struct {
	zapcore.Core
	p *beater.Progress
}

func (c progressCore) With(fields []zapcore.Field) zapcore.Core {
	return progressCore{Core: c.Core.With(fields), p: c.p}
}

// Check asks the wrapped core, which knows the level and the debug
// selectors (-d), whether the entry is written.
func (c progressCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Core.Check(e, nil) != nil {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c progressCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	var err error
	c.p.Above(func() { err = c.Core.Write(e, fields) })
	return err
}
