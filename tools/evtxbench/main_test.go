package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/procbeat/procbeat/testing/corpus"
)

var outLine = regexp.MustCompile(`^records=(\d+) scanned=(\d+) errors=(\d+) seconds=[0-9.]+ records/s=\d+\n$`)

func TestRun(t *testing.T) {
	// A clean file (MANIFEST.tsv): 565 records, of which 511 Sysmon 1, one
	// Sysmon 5, one Sysmon 10 and five Sysmon 7 (image loads, which only
	// the enrichment's filter keeps).
	path := corpus.RequireFile(t, "EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx")
	for _, tc := range []struct {
		args             []string
		records, scanned int
	}{
		{[]string{path}, 565, 565},
		{[]string{"-workers", "0", "-filter", "all", path}, 565, 565},
		{[]string{"-filter", "process", path}, 513, 565},
		{[]string{"-workers", "2", "-filter", "process", path}, 513, 565},
		{[]string{"-filter", "enrich", path}, 518, 565},
		{[]string{"-dump", "json", path}, 565, 565}, // one line per record
		{[]string{"-dump", "xml", path}, 565, 565},
	} {
		var out bytes.Buffer
		if err := run(tc.args, &out); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		m := outLine.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("%v: output %q", tc.args, out.String())
		}
		records, _ := strconv.Atoi(m[1])
		scanned, _ := strconv.Atoi(m[2])
		if records != tc.records || scanned != tc.scanned || m[3] != "0" {
			t.Errorf("%v: records=%d scanned=%d errors=%s, want %d, %d, 0", tc.args, records, scanned, m[3], tc.records, tc.scanned)
		}
	}
}

func TestRunErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"a.evtx", "b.evtx"},
		{"-filter", "network", "a.evtx"},
		{"-dump", "yaml", "a.evtx"},
		{filepath.Join(t.TempDir(), "missing.evtx")},
	} {
		var out bytes.Buffer
		if err := run(args, &out); err == nil {
			t.Errorf("%v: no error, output %q", args, out.String())
		}
	}
}
