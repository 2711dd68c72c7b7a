package evtx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/internal/jsonstr"
	"github.com/procbeat/procbeat/internal/utf16le"
	"github.com/procbeat/procbeat/testing/corpus"
	"github.com/procbeat/procbeat/winevent"
)

// appendRecordJSON renders a record as one JSON object: what Dump's JSON
// mode (dumpjson.go) must write for it.
func appendRecordJSON(dst []byte, r *winevent.Record) []byte {
	dst = appendRecordJSONHead(dst, r, nil)
	for i, d := range r.Data {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendDataJSONName(dst, d.Name)
		dst = jsonstr.Append(dst, d.Value)
		dst = append(dst, '}')
	}
	return append(dst, ']', '}')
}

// escapedRef is the definition the JSON mode must match: render, then
// escape as jsonstr.Append does, without the quotes.
func escapedRef(raw []byte) []byte {
	q := jsonstr.Append(nil, string(raw))
	return q[1 : len(q)-1]
}

func TestAppendUTF16JSONMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// The fast path's exits: every character JSON escapes, NUL, non-ASCII,
	// surrogates (paired and not), U+2028/2029, DEL, at every alignment.
	alphabet := []uint16{'a', 'Z', ' ', '"', '\\', '/', '\n', '\r', '\t', 0x01, 0x1f, 0x7f, 0, 0x80, 0xe9, 0x2028, 0x2029, 0x4e2d, 0xd83d, 0xde00, 0xdc00, 0xfffd, 0x5c00, 0x225c}
	for n := 0; n < 20000; n++ {
		b := randUTF16(rng, alphabet, 40, 3)
		raw := utf16le.Append(nil, b)
		got, n := appendUTF16JSON([]byte("pre"), b)
		if want := append([]byte("pre"), escapedRef(raw)...); !bytes.Equal(got, want) || n != len(raw) {
			t.Fatalf("appendUTF16JSON(% x) = %q (raw %d), want %q (raw %d)", b, got, n, want, len(raw))
		}
	}
}

func TestAppendValueJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d := newDecoder("t", &Options{})
	strs := [][]byte{toUTF16("C:\\a \"b\"\n"), toUTF16("é\u2028x"), []byte("ansi\x01\"\\\xff\x00")}
	for typ := 0; typ < 256; typ++ {
		if typ == tBinXML {
			continue // never rendered as a value
		}
		for n := 0; n < 200; n++ {
			var b []byte
			if n < len(strs) {
				b = append(b, strs[n]...)
			} else {
				b = make([]byte, rng.IntN(40))
				for i := range b {
					b[i] = byte(rng.IntN(256))
				}
			}
			raw := appendValue(nil, uint8(typ), b)
			got, l := d.appendValueJSON([]byte("pre"), uint8(typ), b)
			if want := append([]byte("pre"), escapedRef(raw)...); !bytes.Equal(got, want) || l != len(raw) {
				t.Fatalf("type %#x % x: %q (raw %d), want %q (raw %d)", typ, b, got, l, want, len(raw))
			}
		}
	}
}

// TestDumpJSONMatchesRecords compares Dump's JSON (rendered by the decoders
// in JSON mode) with appendRecordJSON of the records a plain Reader returns,
// line for line, over every corpus file; error lines are the reader's errors.
func TestDumpJSONMatchesRecords(t *testing.T) {
	dir := corpus.Require(t)
	var files []string
	filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(p, ".evtx") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 100 {
		t.Fatalf("%d corpus EVTX files", len(files))
	}
	for _, path := range files {
		var got bytes.Buffer
		// A file with errors says so, with their number.
		derr := Dump(context.Background(), &got, path, "json")
		var de *DumpErrors
		if derr != nil && !errors.As(derr, &de) {
			t.Fatalf("%s: %v", path, derr)
		}
		// The reference: records and errors in the order Next delivers
		// them, one worker.
		var want []byte
		nerr := 0
		r, err := Open(path, Options{Workers: 1, OnError: func(e error) {
			nerr++
			m, _ := json.Marshal(e.Error())
			want = append(append(append(want, `{"error":`...), m...), "}\n"...)
		}})
		if err != nil {
			t.Fatal(err)
		}
		for r.Next(context.Background()) {
			want = append(appendRecordJSON(want, r.Record()), '\n')
		}
		r.Close()
		if (de == nil) != (nerr == 0) || de != nil && (de.Count != nerr || de.File != path) {
			t.Errorf("%s: Dump returned %v for %d errors", path, derr, nerr)
		}
		if !bytes.Equal(got.Bytes(), want) {
			gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("%s line %d:\n got %.400s\nwant %.400s", path, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("%s: %d lines, want %d", path, len(gl), len(wl))
		}
	}
}
