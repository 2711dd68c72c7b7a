package evtx

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/procbeat/procbeat/winevent"
)

// Dump writes every record of the EVTX file at path to w, for debugging.
// format "xml" renders each record's full BinXML as event XML (like
// wevtutil qe /f:xml, one event per line); "json" writes one JSON object per
// line with the fields procbeat keeps (the winevent.Record). Chunk, record
// and file errors (a file shorter than its header declares) are written to
// w as XML comments or {"error": ...} lines and do not stop the dump; it
// then returns a *DumpErrors listing them, so that a caller can tell a
// damaged file from a sound one.
func Dump(ctx context.Context, w io.Writer, path string, format string) error {
	if format != "xml" && format != "json" {
		return fmt.Errorf("dump %s: unknown format %q (want xml or json)", path, format)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	// Large writes: a dump is hundreds of MB, and each write is a system
	// call on standard output.
	bw := bufio.NewWriterSize(w, 256<<10)
	errs := 0
	writeErr := func(e error) {
		errs++
		if format == "xml" {
			fmt.Fprintf(bw, "<!-- error: %s -->\n", e)
			return
		}
		b, _ := json.Marshal(e.Error())
		fmt.Fprintf(bw, "{\"error\":%s}\n", b)
	}
	// JSON renders the decoded records, so chunks are decoded on every
	// core (records and errors still come in file order); XML renders each
	// record's BinXML from the decoder's own state, which needs the
	// sequential reader (see the hook below).
	workers := 0
	if format == "xml" {
		workers = 1
	}
	r, err := NewReader(f, fi.Size(), path, Options{Workers: workers, OnError: writeErr})
	if err != nil {
		return err
	}
	defer r.Close()
	// finish ends the dump: a file error that ended it (a file shorter
	// than its header declares) is written as the others are, after every
	// record read.
	finish := func() error {
		var fe *FileError
		err := r.Err()
		if err != nil && !errors.As(err, &fe) {
			bw.Flush()
			return err
		}
		if err != nil {
			writeErr(err)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if errs == 0 {
			return nil
		}
		return &DumpErrors{File: path, Count: errs, Errors: r.Errors(), End: err}
	}
	if format == "json" {
		// The decoders render each chunk's lines themselves (dumpjson.go);
		// Next reports a chunk's errors before its first record, as the
		// lines were written before.
		r.json = true
		for r.Next(ctx) {
			if r.pos != 0 {
				continue
			}
			// A chunk's lines (tens of KiB) go out in one write rather
			// than through a copy into bw; what bw holds goes first.
			if text := r.cur.text; len(text) < 16<<10 {
				bw.Write(text)
			} else if err := bw.Flush(); err != nil {
				return err
			} else if _, err := w.Write(text); err != nil {
				return err
			}
		}
		return finish()
	}
	var out []byte
	// Sequential mode decodes inside Next, so the hook sees the chunk that
	// produced the record it is called for.
	r.hook = func(d *decoder) {
		d.onRecord = func(pos, size int, rec *winevent.Record) {
			out = out[:0]
			d.budget = maxVisits
			root, fr, _, err := d.recordRoot(pos, size)
			if err == nil {
				out, err = d.appendXML(out, root, fr, 0)
			}
			if err != nil {
				out = fmt.Appendf(out[:0], "<!-- error: record %d: %v -->", rec.RecordID, err)
			}
			out = append(out, '\n')
			bw.Write(out)
		}
	}
	for r.Next(ctx) {
	}
	return finish()
}

// DumpErrors is what Dump returns for a file that held chunk, record or
// file errors: each was written to the dump too.
type DumpErrors struct {
	File  string
	Count int
	// Errors holds the first of the chunk and record errors
	// (Options.MaxErrors); End the file error that ended the file (it
	// is shorter than its header declares), if one did.
	Errors []error
	End    error
}

func (e *DumpErrors) Error() string {
	if e.Count == 1 {
		return fmt.Sprintf("%s: 1 error in the file (written to the dump too)", e.File)
	}
	return fmt.Sprintf("%s: %d errors in the file (written to the dump too)", e.File, e.Count)
}

// appendXML renders a node chain as XML text.
func (d *decoder) appendXML(dst []byte, first int32, fr frame, depth int) ([]byte, error) {
	if depth > maxElementDepth {
		return dst, ErrDepth
	}
	var err error
	for n := first; n >= 0; n = d.nodes[n].next {
		if d.budget--; d.budget < 0 || len(dst) > 4*maxOutput {
			return dst, errExpansion
		}
		nd := d.nodes[n]
		switch nd.kind {
		case nElem:
			dst = append(dst, '<')
			dst = append(dst, nd.name...)
			for a := nd.attr; a >= 0; a = d.nodes[a].next {
				if d.omitAttr(a, fr) {
					continue
				}
				dst = append(dst, ' ')
				dst = append(dst, d.nodes[a].name...)
				dst = append(dst, '=', '"')
				d.scratch = d.appendParts(d.scratch[:0], d.nodes[a].first, fr)
				dst = appendEscaped(dst, d.scratch)
				dst = append(dst, '"')
			}
			if nd.first < 0 {
				dst = append(dst, '/', '>')
				continue
			}
			dst = append(dst, '>')
			if dst, err = d.appendXML(dst, nd.first, fr, depth+1); err != nil {
				return dst, err
			}
			dst = append(dst, '<', '/')
			dst = append(dst, nd.name...)
			dst = append(dst, '>')
		case nText:
			d.scratch = d.appendText(d.scratch[:0], &nd)
			dst = appendEscaped(dst, d.scratch)
		case nCDATA:
			dst = append(dst, "<![CDATA["...)
			dst = d.appendText(dst, &nd)
			dst = append(dst, "]]>"...)
		case nEntity:
			dst = append(dst, '&')
			dst = append(dst, nd.name...)
			dst = append(dst, ';')
		case nPI:
			dst = append(dst, "<?"...)
			dst = append(dst, nd.name...)
			if nd.tlen > 0 {
				dst = append(dst, ' ')
				dst = d.appendText(dst, &nd)
			}
			dst = append(dst, "?>"...)
		case nSubst:
			v, ok := fr.get(d, nd.sub)
			if !ok {
				continue
			}
			if v.typ == tBinXML {
				root, err := d.nestedRoot(v, depth)
				if err != nil {
					return dst, err
				}
				if dst, err = d.appendXML(dst, root, frame{}, depth+1); err != nil {
					return dst, err
				}
				continue
			}
			d.scratch = appendValue(d.scratch[:0], v.typ, d.chunk[v.off:v.off+v.size])
			dst = appendEscaped(dst, d.scratch)
		case nInstance:
			tp := d.templates[nd.tmpl]
			if dst, err = d.appendXML(dst, tp.root, frame{int(nd.vstart), int(nd.vend)}, depth+1); err != nil {
				return dst, err
			}
		}
	}
	return dst, nil
}

// omitAttr reports an attribute made only of an optional substitution whose
// value is empty; Windows leaves such attributes out.
func (d *decoder) omitAttr(a int32, fr frame) bool {
	p := d.nodes[a].first
	if p < 0 || d.nodes[p].next >= 0 || d.nodes[p].kind != nSubst || !d.nodes[p].opt {
		return false
	}
	v, ok := fr.get(d, d.nodes[p].sub)
	return !ok || v.typ == tNull || v.size == 0
}

func appendEscaped(dst []byte, s []byte) []byte {
	for _, c := range s {
		switch c {
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '&':
			dst = append(dst, "&amp;"...)
		case '"':
			dst = append(dst, "&quot;"...)
		case '\n':
			// Kept as a reference so every event stays on one line.
			dst = append(dst, "&#10;"...)
		case '\r':
			dst = append(dst, "&#13;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
