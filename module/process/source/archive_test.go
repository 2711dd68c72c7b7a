package source

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/winevent"
)

type member struct {
	name string
	data []byte
}

func zipOf(t *testing.T, ms ...member) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, m := range ms {
		f, err := w.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(m.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzOf(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func tgzOf(t *testing.T, ms ...member) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, m := range ms {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o600, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.data)
	}
	tw.Close()
	return gzOf(b.Bytes())
}

func xmlExport(from, to int) []byte {
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString(xmlEvent(i))
	}
	return []byte(b.String())
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type walked struct {
	id, name string
	recs     []winevent.Record
	end      Position
	err      error
}

// walk reads every member of an archive from the positions in at.
func walk(t *testing.T, path string, opts Options, at map[string]Position) ([]walked, error) {
	t.Helper()
	var out []walked
	err := WalkArchive(context.Background(), path, opts, func(s Source) error {
		w := walked{id: s.ID()}
		if n, ok := s.(interface{ String() string }); ok {
			w.name = n.String()
		}
		r, err := s.Open(context.Background(), at[s.ID()])
		if err != nil {
			w.err = err
			out = append(out, w)
			return nil
		}
		defer r.Close()
		w.end = at[s.ID()]
		for r.Next(context.Background()) {
			w.recs = append(w.recs, *r.Record())
			w.end = r.Position()
		}
		w.err = r.Err()
		out = append(out, w)
		return nil
	})
	return out, err
}

// TestArchives reads .zip, .tar.gz, .tgz and .gz files, streamed: input
// members only, each keyed by the archive's absolute path and its member
// path, and named archive:member in messages.
func TestArchives(t *testing.T) {
	dir := t.TempDir()
	a, b := xmlExport(1, 3), []byte(jsonEvent(10)+"\n"+jsonEvent(11)+"\n")
	ms := []member{{"Logs/a.xml", a}, {"readme.txt", []byte("not an input")}, {"Logs/b.ndjson", b}}
	inner := tgzOf(t, member{"deep/c.xml", xmlExport(20, 21)})
	for _, c := range []struct {
		file  string
		data  []byte
		names []string
		count []int
	}{
		{"collection.zip", zipOf(t, append(ms, member{"nested.tgz", inner})...), []string{"Logs/a.xml", "Logs/b.ndjson", "nested.tgz:deep/c.xml"}, []int{3, 2, 2}},
		{"collection.tar.gz", tgzOf(t, append(ms, member{"nested.tgz", inner})...), []string{"Logs/a.xml", "Logs/b.ndjson", "nested.tgz:deep/c.xml"}, []int{3, 2, 2}},
		{"Sysmon.xml.gz", gzOf(a), []string{"Sysmon.xml"}, []int{3}},
	} {
		p := writeFile(t, dir, c.file, c.data)
		got, err := walk(t, p, Options{}, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if len(got) != len(c.names) {
			t.Fatalf("%s: %d members, want %v", c.file, len(got), c.names)
		}
		for i, w := range got {
			if w.err != nil || len(w.recs) != c.count[i] {
				t.Errorf("%s: member %s: %d records, err %v", c.file, w.name, len(w.recs), w.err)
			}
			if w.id != "archive:"+p+":"+c.names[i] || w.name != p+":"+c.names[i] {
				t.Errorf("%s: member %d: id %q name %q", c.file, i, w.id, w.name)
			}
		}
	}
}

// TestArchiveMemberInMessages: a bad record inside an archive is reported
// with the archive and member path; a zip inside an archive is refused,
// naming it.
func TestArchiveMemberInMessages(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.zip", zipOf(t,
		member{"Logs/bad.xml", []byte(xmlEvent(1) + "<Event><System><EventID>x</EventID></System></Event>\n")},
		member{"inner.zip", zipOf(t, member{"a.xml", []byte(xmlEvent(2))})}))
	var errs []*decode.RecordError
	got, err := walk(t, p, Options{Decode: decode.Options{OnError: func(e *decode.RecordError) { errs = append(errs, e) }}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), p+":Logs/bad.xml") {
		t.Errorf("record error: %v", errs)
	}
	if len(got) != 2 || got[1].err == nil || !strings.Contains(got[1].err.Error(), p+":inner.zip") {
		t.Errorf("nested zip: %+v", got)
	}
}

// TestArchiveBombRefused: an archive that expands beyond the byte limit or
// the ratio, or nests archives too deep, is refused with ErrArchiveBomb.
func TestArchiveBombRefused(t *testing.T) {
	dir := t.TempDir()
	zeros := make([]byte, 8<<20)
	huge := append(xmlExport(1, 2), zeros...)
	deep := tgzOf(t, member{"a.xml", xmlExport(1, 1)})
	for i := 0; i < 3; i++ {
		deep = tgzOf(t, member{"n.tgz", deep})
	}
	for _, c := range []struct {
		name string
		data []byte
		lim  ArchiveLimits
		want string
	}{
		{"big.zip", zipOf(t, member{"a.xml", huge}), ArchiveLimits{MaxBytes: 1 << 20}, "more than 1048576 bytes"},
		{"big.tar.gz", tgzOf(t, member{"a.xml", huge}), ArchiveLimits{MaxBytes: 1 << 20}, "more than 1048576 bytes"},
		{"ratio.gz", gzOf(huge), ArchiveLimits{RatioFloor: 1 << 20, MaxRatio: 100}, "more than 100 times"},
		{"deep.tgz", deep, ArchiveLimits{MaxDepth: 2}, "nested more than 2 deep"},
	} {
		p := writeFile(t, dir, c.name, c.data)
		_, err := walk(t, p, Options{Archive: c.lim}, nil)
		if !errors.Is(err, ErrArchiveBomb) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), p+": ") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The defaults let an ordinary nested archive through.
	p := writeFile(t, dir, "ok.tgz", tgzOf(t, member{"n.tgz", tgzOf(t, member{"a.xml", xmlExport(1, 1)})}))
	if _, err := walk(t, p, Options{}, nil); err != nil {
		t.Errorf("default limits: %v", err)
	}
}

// TestArchiveMembersResume: members resume at their positions, the archive
// streamed again and the member skipped to its position.
func TestArchiveMembersResume(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		data func(n int) []byte
	}{
		{"c.zip", func(n int) []byte {
			return zipOf(t, member{"a.xml", xmlExport(1, n)}, member{"b.xml", xmlExport(101, 100+n)})
		}},
		{"c.tgz", func(n int) []byte {
			return tgzOf(t, member{"a.xml", xmlExport(1, n)}, member{"b.xml", xmlExport(101, 100+n)})
		}},
		{"a.xml.gz", func(n int) []byte { return gzOf(xmlExport(1, n)) }},
	} {
		p := writeFile(t, dir, c.name, c.data(5))
		first, err := walk(t, p, Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		at := map[string]Position{}
		for _, w := range first {
			at[w.id] = w.end
		}
		writeFile(t, dir, c.name, c.data(8)) // a newer collection, grown logs
		second, err := walk(t, p, Options{}, at)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range second {
			if w.err != nil || len(w.recs) != 3 || w.recs[0].RecordID%100 != 6 {
				t.Errorf("%s: %s resumed with %d records (%v)", c.name, w.name, len(w.recs), w.err)
			}
		}
	}
}

// TestArchiveEVTXMember reads an EVTX member of a zip and of a tar.gz
// chunk by chunk from the stream: the same records as the file, and a
// member resumes from a position in the middle.
func TestArchiveEVTXMember(t *testing.T) {
	c := corpus.RequireFile(t, "omerbenamram-evtx/samples/sysmon.evtx")
	raw, err := os.ReadFile(c)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := drain(t, NewFile(c, Options{}), Position{})
	dir := t.TempDir()
	for _, name := range []string{"c.zip", "c.tar.gz"} {
		data := zipOf(t, member{"Logs/Sysmon.evtx", raw})
		if name == "c.tar.gz" {
			data = tgzOf(t, member{"Logs/Sysmon.evtx", raw})
		}
		p := writeFile(t, dir, name, data)
		got, err := walk(t, p, Options{}, nil)
		if err != nil || len(got) != 1 || len(got[0].recs) != len(plain) {
			t.Fatalf("%s: %v, %d members", name, err, len(got))
		}
		for i := range plain {
			if got[0].recs[i].RecordID != plain[i].RecordID {
				t.Fatalf("%s: record %d differs", name, i)
			}
		}
		// Resume from the middle: a walk reading half the member first.
		var mid Position
		half := len(plain) / 2
		WalkArchive(context.Background(), p, Options{}, func(s Source) error {
			r, err := s.Open(context.Background(), Position{})
			if err != nil {
				return err
			}
			defer r.Close()
			for i := 0; i < half && r.Next(context.Background()); i++ {
				mid = r.Position()
			}
			return nil
		})
		rest, err := walk(t, p, Options{}, map[string]Position{got[0].id: mid})
		if err != nil || len(rest[0].recs) != len(plain)-half || rest[0].recs[0].RecordID != plain[half].RecordID {
			t.Fatalf("%s: resumed %d records, want %d (%v)", name, len(rest[0].recs), len(plain)-half, err)
		}
	}
}

// TestArchiveWalkCancelled: a cancelled walk stops, even inside a member it
// is skipping.
func TestArchiveWalkCancelled(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.tgz", tgzOf(t, member{"skip.bin", make([]byte, 4<<20)}, member{"a.xml", xmlExport(1, 3)}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := WalkArchive(ctx, p, Options{}, func(Source) error { t.Error("a member reached fn"); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled walk: %v", err)
	}
}
