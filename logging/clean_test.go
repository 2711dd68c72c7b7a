package logging

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain C:\\Windows\\cmd.exe ü 日本": "plain C:\\Windows\\cmd.exe ü 日本",
		"tab\tkept":                       "tab\tkept",
		"a\nb\r\n":                        `a\nb\r\n`,
		"\x1b[31mred\x1b[0m":              `\x1b[31mred\x1b[0m`,
		"\x00\x7f\u0085":                  `\x00\x7f\u0085`,
		"bad \xff utf8":                   `bad \xff utf8`,
		"evil\u202eexe.txt":               `evil\u202eexe.txt`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
	s := "nothing to escape"
	if n := testing.AllocsPerRun(100, func() { _ = Escape(s) }); n != 0 {
		t.Errorf("Escape allocates %v times on clean text", n)
	}
}

// A value from an input file cannot forge a log line, colour the terminal
// or show a password, whether it is in the message or in a field.
func TestLoggerCleansInput(t *testing.T) {
	var buf bytes.Buffer
	enc := zapcore.NewConsoleEncoder(zapcore.EncoderConfig{MessageKey: "m", LineEnding: "\n"})
	log := zap.New(cleanCore{zapcore.NewCore(enc, zapcore.AddSync(&buf), zapcore.DebugLevel)}).Sugar()
	name := "x.xml\n2026-11-27T00:00:00Z\terror\tforged line \x1b[2J"
	log.Warnf("%s: record 3: bad value", name)
	log.Errorw("bulk", "host", "http://u:pw-secret@h:9200", "error", errors.New("bad\nthing"))
	out := buf.String()
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("%d lines, want 2:\n%s", n, out)
	}
	if strings.Contains(out, "\x1b") || strings.Contains(out, "pw-secret") {
		t.Errorf("raw escape or secret in the log:\n%q", out)
	}
	if !strings.Contains(out, `x.xml\n2026-11-27T00:00:00Z`) || !strings.Contains(out, `bad\\nthing`) {
		t.Errorf("escaped text missing:\n%s", out)
	}
}
