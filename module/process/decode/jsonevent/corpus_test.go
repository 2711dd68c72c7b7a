package jsonevent

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/winevent"
)

// countRecords decodes r and counts the process events the manifest lists.
func countRecords(t *testing.T, r io.Reader, name string) (corpus.Counts, int, error) {
	t.Helper()
	d := NewDecoder(r, name, decode.Options{})
	var c corpus.Counts
	n := 0
	for d.Next() {
		n++
		rec := d.Record()
		switch {
		case rec.Provider == winevent.ProviderSysmon && rec.EventID == 1:
			c.SysmonEID1++
		case rec.Provider == winevent.ProviderSysmon && rec.EventID == 5:
			c.SysmonEID5++
		case rec.Provider == winevent.ProviderSysmon && rec.EventID == 10:
			c.SysmonEID10++
		case rec.Provider == winevent.ProviderSecurity && rec.EventID == 4688:
			c.Sec4688++
		case rec.Provider == winevent.ProviderSecurity && rec.EventID == 4689:
			c.Sec4689++
		}
		if rec.TimeCreated.IsZero() {
			t.Errorf("%s record %d: no time", name, n)
		}
	}
	for _, e := range d.Errors() {
		t.Errorf("%v", e)
	}
	return c, n, d.Err()
}

func TestCorpusCounts(t *testing.T) {
	dir := corpus.Require(t)
	manifest, err := corpus.Manifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	err = filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		lower := strings.ToLower(rel)
		var open func() (io.Reader, func(), error)
		switch {
		case strings.HasSuffix(lower, ".json"), strings.HasSuffix(lower, ".jsonl"), strings.HasSuffix(lower, ".ndjson"):
			open = func() (io.Reader, func(), error) {
				f, err := os.Open(path)
				return f, func() { f.Close() }, err
			}
		case strings.HasSuffix(lower, ".zip"):
			open = func() (io.Reader, func(), error) { return openZip(path) }
		case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
			open = func() (io.Reader, func(), error) { return openTarGz(path) }
		default:
			return nil
		}
		want, ok := manifest[rel]
		if !ok {
			t.Errorf("%s: not in MANIFEST.tsv", rel)
			return nil
		}
		seen++
		t.Run(rel, func(t *testing.T) {
			r, done, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			got, n, err := countRecords(t, r, rel)
			if err != nil {
				// The OTRF tar.gz lacks its gzip trailer: the data is all
				// there, the stream just ends early. Counts still apply.
				if errors.Is(err, io.ErrUnexpectedEOF) {
					t.Logf("%s: %v (after %d records)", rel, err, n)
				} else {
					t.Fatalf("%s: %v", rel, err)
				}
			}
			if got != want.Counts {
				t.Errorf("%s: counts %+v, manifest says %+v", rel, got, want.Counts)
			}
			if n != want.RecordsTotal {
				t.Errorf("%s: %d records, manifest says %d", rel, n, want.RecordsTotal)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		corpus.Skip(t, "no JSON files in the corpus")
	}
}

// openZip returns the concatenation of the zip's JSON members.
func openZip(path string) (io.Reader, func(), error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, nil, err
	}
	var rs []io.Reader
	var closers []io.Closer
	for _, f := range zr.File {
		if !strings.HasSuffix(strings.ToLower(f.Name), ".json") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			zr.Close()
			return nil, nil, err
		}
		rs = append(rs, rc, strings.NewReader("\n"))
		closers = append(closers, rc)
	}
	return io.MultiReader(rs...), func() {
		for _, c := range closers {
			c.Close()
		}
		zr.Close()
	}, nil
}

// openTarGz streams the first JSON member of a gzipped tar.
func openTarGz(path string) (io.Reader, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		if strings.HasSuffix(strings.ToLower(h.Name), ".json") {
			return tr, func() { f.Close() }, nil
		}
	}
}

// TestCorpusZonelessTimes: OTRF's exports write the collector's local time
// without a zone (EventTime, TimeCreated). Where the records carry a UTC
// @timestamp the zone comes from it, so every Sysmon record's time falls
// seconds after its own UtcTime, as the log wrote it; where none does
// (the psexec export) one notice says the times are read as UTC, and
// Options.Location (procbeat.timezone) then puts them right.
func TestCorpusZonelessTimes(t *testing.T) {
	const (
		covenant = "Security-Datasets/datasets/atomic/windows/lateral_movement/host/covenant_sharpsc_query_dcerpc_smb_svcctl_2020-08-06012009.json"
		psexec   = "Security-Datasets/datasets/atomic/windows/credential_access/host/cmd_psexec_lsa_secrets_dump_2020-10-1903305471.json"
	)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rel     string
		loc     *time.Location
		notices int
		utcOff  time.Duration // TimeCreated less UtcTime, but for the log's delay
	}{
		{covenant, nil, 0, 0},
		{psexec, nil, 1, -4 * time.Hour},
		{psexec, ny, 0, 0},
	} {
		t.Run(filepath.Base(c.rel), func(t *testing.T) {
			f, err := os.Open(corpus.RequireFile(t, c.rel))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var notes []string
			d := NewDecoder(f, c.rel, decode.Options{Location: c.loc, Notice: func(m string) { notes = append(notes, m) }})
			sysmon := 0
			for d.Next() {
				rec := d.Record()
				v, ok := rec.Get("UtcTime")
				if rec.Provider != winevent.ProviderSysmon || !ok {
					continue
				}
				sysmon++
				utc, err := time.Parse("2006-01-02 15:04:05.999", v)
				if err != nil {
					t.Fatal(err)
				}
				// The log writes the event moments (seconds at most)
				// after Sysmon saw it; EventTime keeps whole seconds.
				if d := rec.TimeCreated.Sub(utc) - c.utcOff; d < -time.Second || d > time.Minute {
					t.Fatalf("record %d: TimeCreated %v, UtcTime %v", rec.RecordID, rec.TimeCreated, utc)
				}
			}
			if d.Err() != nil || d.ErrorCount() != 0 || sysmon < 200 {
				t.Fatalf("fatal %v, errors %v, %d Sysmon records", d.Err(), d.Errors(), sysmon)
			}
			if len(notes) != c.notices || (c.notices > 0 && !strings.HasPrefix(notes[0], c.rel+`:1: record 1: TimeCreated "2020-10-19 03:30:41.104" has no time zone`)) {
				t.Errorf("notices %q", notes)
			}
		})
	}
}
