// Package xmlevent decodes rendered Windows event XML, as `wevtutil qe
// /f:xml` and the EvtRender API produce it, into winevent.Record values.
//
// The input is one <Event> element or a stream of them: concatenated (what
// wevtutil writes without /e:root) or inside any root element such as
// <Events> (with /e:Events). UTF-8, UTF-8 with a byte order mark and UTF-16
// (PowerShell redirection) are accepted.
//
// System fields fill the record's header. EventData/Data elements become
// data items in document order; a Data element without a Name attribute
// (forwarded and classic events) is named paramN, N counting the unnamed
// items from 1, as Winlogbeat does; EventData/Binary becomes an item named
// Binary. UserData is flattened: every leaf element below it becomes an item
// named after the element. RenderingInfo is ignored.
//
// Events are framed at the byte level and each is parsed with its own
// encoding/xml Decoder (token API), so a malformed or oversized event is
// reported and skipped and the next one is read normally. One event may
// take at most Options.MaxRecordSize bytes (1 MiB by default).
package xmlevent

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/procbeat/procbeat/module/process/decode"
	"github.com/procbeat/procbeat/winevent"
)

// DefaultMaxRecordSize caps one event's XML.
const DefaultMaxRecordSize = 1 << 20

// Decoder reads events from an XML stream. It implements decode.Reader.
type Decoder struct {
	decode.Base
	opts decode.Options
	fr   framer

	// per-event scratch
	br    bytes.Reader
	stack []elem
	vals  []byte
	items []item
}

type elem struct {
	tag      string // element name, to check the end tag
	name     string
	vs       int  // start of the element's text in vals
	hasChild bool // for UserData leaves
	role     role
}

type role uint8

const (
	rOther role = iota
	rSystemField
	rData
	rUserData
)

type item struct {
	name   string
	vs, ve int
}

var _ decode.Reader = (*Decoder)(nil)

// NewDecoder returns a decoder reading r; name identifies the input in
// errors (usually the file path).
func NewDecoder(r io.Reader, name string, opts decode.Options) *Decoder {
	if opts.MaxRecordSize <= 0 {
		opts.MaxRecordSize = DefaultMaxRecordSize
	}
	tr := decode.NewTextReader(r)
	br, ok := tr.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(tr, 64<<10)
	}
	return &Decoder{
		Base: decode.Base{Name: name, Log: decode.NewErrorLog(opts)},
		opts: opts,
		fr:   framer{r: br, max: opts.MaxRecordSize, line: 1},
	}
}

// Next advances to the next good event.
func (d *Decoder) Next() bool {
	if d.Fatal != nil {
		return false
	}
	for {
		fr, err := d.fr.next()
		if err != nil {
			if err != io.EOF {
				d.Fatal = fmt.Errorf("%s: line %d: %w", d.Name, d.fr.line, err)
			}
			return false
		}
		d.Index++
		switch {
		case fr.bad != nil:
			d.Report(fr.line, "", fr.bad)
			continue
		case fr.tooBig:
			d.Report(fr.line, "", fmt.Errorf("event of %d bytes exceeds the %d byte limit", fr.size, d.opts.MaxRecordSize))
			continue
		}
		line, field, err := d.decode(fr.data)
		if err != nil {
			d.Report(fr.line+line, field, err)
			continue
		}
		return true
	}
}

// NewEventDecoder returns a decoder for events handed over one at a time
// through DecodeEvent, as a live channel renders them; name identifies the
// source in errors. Next reads nothing on such a decoder.
func NewEventDecoder(name string, opts decode.Options) *Decoder {
	return NewDecoder(bytes.NewReader(nil), name, opts)
}

// DecodeEvent decodes one <Event> element, UTF-8 without a byte order mark,
// into the decoder's record, which it reuses (valid until the next call).
// A bad event is counted in Errors and ErrorCount, reported through
// Options.OnError, and returned as a *decode.RecordError naming the field.
func (d *Decoder) DecodeEvent(data []byte) (*winevent.Record, error) {
	d.Index++
	var (
		line  int
		field string
		err   error
	)
	if len(data) > d.opts.MaxRecordSize {
		err = fmt.Errorf("event of %d bytes exceeds the %d byte limit", len(data), d.opts.MaxRecordSize)
	} else {
		line, field, err = d.decode(data)
	}
	if err != nil {
		e := &decode.RecordError{File: d.Name, Line: line + 1, Index: d.Index, Field: field, Err: err}
		d.Log.Add(e)
		return nil, e
	}
	return &d.Rec, nil
}

// Offset returns the input offset just past the current event (in the UTF-8
// text after any transcoding): where reading may resume.
func (d *Decoder) Offset() int64 { return d.fr.off }

var errNoEventID = errors.New("no System/EventID")

// decode parses one <Event> element. On error it returns the line within
// the event (0-based) and the offending field.
func (d *Decoder) decode(data []byte) (int, string, error) {
	r := &d.Rec
	r.Reset()
	d.stack, d.vals, d.items = d.stack[:0], d.vals[:0], d.items[:0]
	d.br.Reset(data)
	xd := xml.NewDecoder(&d.br)
	var (
		haveID  bool
		unnamed int
		timeStr string
	)
	for {
		// RawToken skips namespace translation (the names used here are
		// unqualified); end tags are matched against the stack below.
		tok, err := xd.RawToken()
		if err == io.EOF {
			if len(d.stack) > 0 {
				return lineOf(xd), "", fmt.Errorf("element <%s> is not closed", d.stack[len(d.stack)-1].tag)
			}
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return se.Line - 1, "", err
			}
			return 0, "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth := len(d.stack)
			e := elem{tag: t.Name.Local, name: t.Name.Local, vs: len(d.vals)}
			var parent *elem
			if depth > 0 {
				parent = &d.stack[depth-1]
				parent.hasChild = true
			}
			switch {
			case depth == 0:
				if e.name != "Event" {
					return 0, "", fmt.Errorf("root element is <%s>, not <Event>", e.name)
				}
			case depth == 2 && parent.name == "System":
				e.role = rSystemField
				for _, a := range t.Attr {
					switch e.name + "/" + a.Name.Local {
					case "Provider/Name":
						r.Provider = a.Value
					case "TimeCreated/SystemTime":
						timeStr = a.Value
					case "Execution/ProcessID":
						n, err := parseUint(a.Value, 32)
						if err != nil {
							return lineOf(xd), "System/Execution/@ProcessID", err
						}
						r.ProcessID = uint32(n)
					case "Execution/ThreadID":
						n, err := parseUint(a.Value, 32)
						if err != nil {
							return lineOf(xd), "System/Execution/@ThreadID", err
						}
						r.ThreadID = uint32(n)
					case "Security/UserID":
						r.UserID = a.Value
					}
				}
			case depth == 2 && parent.name == "EventData":
				e.role = rData
				if e.name == "Data" {
					e.name = ""
					for _, a := range t.Attr {
						if a.Name.Local == "Name" {
							e.name = a.Value
						}
					}
					if e.name == "" {
						unnamed++
						e.name = "param" + strconv.Itoa(unnamed)
					}
				}
			case depth >= 2 && (parent.name == "UserData" && depth == 2 || parent.role == rUserData):
				e.role = rUserData
			}
			d.stack = append(d.stack, e)
		case xml.CharData:
			if n := len(d.stack); n > 0 && d.stack[n-1].role != rOther {
				d.vals = append(d.vals, t...)
			}
		case xml.EndElement:
			n := len(d.stack)
			if n == 0 {
				return lineOf(xd), "", fmt.Errorf("unexpected </%s>", t.Name.Local)
			}
			e := d.stack[n-1]
			if e.tag != t.Name.Local {
				return lineOf(xd), "", fmt.Errorf("element <%s> closed by </%s>", e.tag, t.Name.Local)
			}
			d.stack = d.stack[:n-1]
			text := d.vals[e.vs:]
			switch e.role {
			case rSystemField:
				var err error
				var v uint64
				switch e.name {
				case "EventID":
					v, err = parseUint(string(bytes.TrimSpace(text)), 16)
					r.EventID, haveID = uint16(v), err == nil
				case "Version":
					v, err = parseUint(string(bytes.TrimSpace(text)), 8)
					r.Version = uint8(v)
				case "EventRecordID":
					r.RecordID, err = parseUint(string(bytes.TrimSpace(text)), 64)
				case "Channel":
					r.Channel = string(bytes.TrimSpace(text))
				case "Computer":
					r.Computer = string(bytes.TrimSpace(text))
				}
				if err != nil {
					return lineOf(xd), "System/" + e.name, err
				}
				d.vals = d.vals[:e.vs]
			case rData:
				d.items = append(d.items, item{name: e.name, vs: e.vs, ve: len(d.vals)})
			case rUserData:
				if !e.hasChild {
					d.items = append(d.items, item{name: e.name, vs: e.vs, ve: len(d.vals)})
				}
			}
		}
	}
	if !haveID {
		return 0, "System/EventID", errNoEventID
	}
	if timeStr != "" {
		t, err := parseTime(timeStr)
		if err != nil {
			return 0, "System/TimeCreated/@SystemTime", err
		}
		r.TimeCreated = t
	}
	// One string holds every data value of the event.
	vals := string(d.vals)
	if !utf8.ValidString(vals) {
		vals = strings.ToValidUTF8(vals, "\uFFFD")
		for _, it := range d.items {
			r.Data = append(r.Data, winevent.Data{Name: it.name, Value: strings.ToValidUTF8(string(d.vals[it.vs:it.ve]), "\uFFFD")})
		}
		return 0, "", nil
	}
	for _, it := range d.items {
		r.Data = append(r.Data, winevent.Data{Name: it.name, Value: vals[it.vs:it.ve]})
	}
	return 0, "", nil
}

func parseUint(s string, bits int) (uint64, error) {
	s = strings.TrimSpace(s)
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return strconv.ParseUint(s[2:], 16, bits)
	}
	return strconv.ParseUint(s, 10, bits)
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

// parseTime reads SystemTime, UTC when no zone is given.
func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", s)
}

// lineOf returns the decoder's current line within the event, 0-based.
func lineOf(xd *xml.Decoder) int {
	line, _ := xd.InputPos()
	return line - 1
}
