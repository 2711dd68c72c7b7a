package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/beater"
	"github.com/procbeat/procbeat/config"
	"github.com/procbeat/procbeat/logging"
)

// Above the progress bar, debug lines are still selected by -d.
func TestAboveProgressKeepsSelectors(t *testing.T) {
	var buf bytes.Buffer
	log, closeLog, err := logging.New(config.Default().Logging, config.Path{}, logging.Options{ToStderr: true, Stderr: &buf, Debug: []string{"publisher"}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeLog()
	log = log.WithOptions(aboveProgress(&beater.Progress{W: &buf}))
	log.Named("publisher").Debugf("selected")
	log.Named("console").Debugf("not selected")
	log.Named("console").Infof("info")
	if out := buf.String(); !strings.Contains(out, "selected") || strings.Contains(out, "not selected") || !strings.Contains(out, "info") {
		t.Errorf("logged %s", out)
	}
}
