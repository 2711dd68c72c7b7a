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
// Events are framed at the byte level and each is parsed on its own by a
// purpose-built scanner (scan.go: no encoding/xml, no reflection, no
// per-token allocation; it accepts, rejects and reports what encoding/xml
// did), so a malformed or oversized event is reported and skipped and the
// next one is read normally. One event may
// take at most Options.MaxRecordSize bytes (1 MiB by default).
package xmlevent

import (
	"bytes"
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
	stack []elem
	vals  []byte
	items []item
	attrs []attr
	abuf  []byte // attribute values of the current tag
	skip  []byte // text nothing keeps (still checked)
	tbuf  []byte // the SystemTime attribute
	// haveID is set by a valid System/EventID; unnamed counts the Data
	// elements without a Name.
	haveID  bool
	unnamed int
	// strs interns names and System strings, which repeat from event to
	// event; bounded.
	strs map[string]string
}

type elem struct {
	tag      []byte // local name, in the event's bytes, to check the end tag
	name     string // item name (rData, rUserData)
	vs       int    // start of the element's text in vals
	hasChild bool   // for UserData leaves
	role     role
}

// attr is an attribute of the current tag: local name, value in abuf.
type attr struct {
	local  []byte
	vs, ve int
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
	return &Decoder{
		Base: decode.Base{Name: name, Log: decode.NewErrorLog(opts), From: opts.From},
		opts: opts,
		fr:   newFramer(tr, opts.MaxRecordSize),
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
			switch {
			case err != io.EOF:
				d.Fatal = fmt.Errorf("%s: line %d: %w", d.Name, d.fr.line, err)
			case d.fr.open > 0:
				// A cut copy of a wrapped export: every event
				// before the cut is complete, the file is not.
				d.fr.open = 0
				if !d.opts.Growing {
					d.ReportTruncated(d.fr.endLine(), fmt.Sprintf("the <%s> element opened on line %d (no end tag)", d.fr.root, d.fr.rootLine))
				}
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
		d.Line = fr.line
		line, field, err := d.decode(fr.data)
		if err != nil {
			d.Report(fr.line+line, field, err)
			continue
		}
		return true
	}
}

// ResumeAfter tells a decoder that starts reading after one of the events
// of an export (resuming there) what lies around its events: head is the
// export's first bytes, where a root element such as <Events> opens. The
// input must then not end before the root's end tag. Call it before the
// first Next.
func (d *Decoder) ResumeAfter(head []byte) {
	f := newFramer(decode.NewTextReader(bytes.NewReader(head)), len(head))
	// Only what precedes the first event counts: elements opened there
	// enclose every event.
	_ = f.toEvent()
	if f.open > 0 {
		d.fr.open, d.fr.rootLine = f.open, f.rootLine
		d.fr.root = append(d.fr.root[:0], f.root...)
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

// intern returns a string equal to b, reusing an earlier one: the lookup
// with a converted key does not allocate.
func (d *Decoder) intern(b []byte) string {
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	if d.strs == nil || len(d.strs) >= 4096 {
		d.strs = make(map[string]string)
	}
	s := string(b)
	d.strs[s] = s
	return s
}

// decode parses one <Event> element (scan.go reads the XML). On error it
// returns the line within the event (0-based) and the offending field.
func (d *Decoder) decode(data []byte) (int, string, error) {
	r := &d.Rec
	r.Reset()
	d.stack, d.vals, d.items = d.stack[:0], d.vals[:0], d.items[:0]
	d.tbuf = d.tbuf[:0]
	s := scanner{data: data}
	d.haveID, d.unnamed = false, 0
	// syntax returns a scanner error as decode's result.
	syntax := func(err error) (int, string, error) {
		if se, ok := err.(*syntaxError); ok {
			return se.line - 1, "", err
		}
		return 0, "", err
	}
	for {
		if s.pos >= len(data) {
			if n := len(d.stack); n > 0 {
				return s.line(s.pos) - 1, "", fmt.Errorf("element <%s> is not closed", d.stack[n-1].tag)
			}
			break
		}
		if data[s.pos] != '<' {
			if err := d.text(&s, false); err != nil {
				return syntax(err)
			}
			continue
		}
		s.pos++
		if s.pos >= len(data) {
			return syntax(s.eof())
		}
		switch data[s.pos] {
		case '/':
			s.pos++
			local, err := s.mustName("expected element name after </")
			if err != nil {
				return syntax(err)
			}
			s.space()
			if s.pos >= len(data) {
				return syntax(s.eof())
			}
			s.pos++
			if data[s.pos-1] != '>' {
				return syntax(s.errAt("invalid characters between </" + string(local) + " and >"))
			}
			if line, field, err := d.end(&s, local); err != nil {
				return line, field, err
			}
			continue
		case '?':
			s.pos++
			if err := s.procInst(); err != nil {
				return syntax(err)
			}
			continue
		case '!':
			s.pos++
			if s.pos >= len(data) {
				return syntax(s.eof())
			}
			c := data[s.pos]
			s.pos++
			var err error
			switch c {
			case '-':
				if s.pos >= len(data) {
					return syntax(s.eof())
				}
				if s.pos++; data[s.pos-1] != '-' {
					return syntax(s.errAt("invalid sequence <!- not part of <!--"))
				}
				err = s.comment()
			case '[':
				for i := 0; i < 6 && err == nil; i++ {
					if s.pos >= len(data) {
						err = s.eof()
					} else if s.pos++; data[s.pos-1] != "CDATA["[i] {
						err = s.errAt("invalid <![ sequence")
					}
				}
				if err == nil {
					err = d.text(&s, true)
				}
			default:
				err = s.directive()
			}
			if err != nil {
				return syntax(err)
			}
			continue
		}
		local, empty, err := d.startTag(&s)
		if err != nil {
			return syntax(err)
		}
		if line, field, err := d.start(&s, local); err != nil {
			return line, field, err
		}
		if empty {
			if line, field, err := d.end(&s, local); err != nil {
				return line, field, err
			}
		}
	}
	return d.finish(d.haveID, string(d.tbuf))
}

// text reads character data, or a CDATA section's once "<![CDATA[" is
// read: into vals inside an element whose text is kept, else into skip.
func (d *Decoder) text(s *scanner, cdata bool) (err error) {
	if n := len(d.stack); n > 0 && d.stack[n-1].role != rOther {
		d.vals, err = s.text(d.vals, 0, cdata)
	} else {
		d.skip, err = s.text(d.skip[:0], 0, cdata)
	}
	return err
}

// finish checks the event's EventID, sets its time from the SystemTime
// text (if any) and its data items from vals.
func (d *Decoder) finish(haveID bool, systemTime string) (int, string, error) {
	r := &d.Rec
	if !haveID {
		return 0, "System/EventID", errNoEventID
	}
	if systemTime != "" {
		t, err := parseTime(systemTime)
		if err != nil {
			return 0, "System/TimeCreated/@SystemTime", err
		}
		r.TimeCreated = t
	}
	// One string holds every data value of the event.
	vals := string(d.vals)
	if !utf8.ValidString(vals) {
		// Each value on its own: one made valid whole could shift the
		// values after an invalid byte.
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

// startTag reads a start tag whose '<' was read: the element's local name,
// its attributes into d.attrs and d.abuf, and whether it closes itself.
func (d *Decoder) startTag(s *scanner) (local []byte, empty bool, err error) {
	data := s.data
	if local, err = s.mustName("expected element name after <"); err != nil {
		return nil, false, err
	}
	d.attrs, d.abuf = d.attrs[:0], d.abuf[:0]
	for {
		s.space()
		if s.pos >= len(data) {
			return nil, false, s.eof()
		}
		c := data[s.pos]
		s.pos++
		switch c {
		case '/':
			if s.pos >= len(data) {
				return nil, false, s.eof()
			}
			if s.pos++; data[s.pos-1] != '>' {
				return nil, false, s.errAt("expected /> in element")
			}
			return local, true, nil
		case '>':
			return local, false, nil
		}
		s.pos--
		name, err := s.mustName("expected attribute name in element")
		if err != nil {
			return nil, false, err
		}
		s.space()
		if s.pos >= len(data) {
			return nil, false, s.eof()
		}
		if s.pos++; data[s.pos-1] != '=' {
			return nil, false, s.errAt("attribute name without = in element")
		}
		s.space()
		if s.pos >= len(data) {
			return nil, false, s.eof()
		}
		q := data[s.pos]
		s.pos++
		if q != '"' && q != '\'' {
			return nil, false, s.errAt("unquoted or missing attribute value in element")
		}
		vs := len(d.abuf)
		if d.abuf, err = s.text(d.abuf, q, false); err != nil {
			return nil, false, err
		}
		d.attrs = append(d.attrs, attr{local: name, vs: vs, ve: len(d.abuf)})
	}
}

// start handles a start tag read by startTag: the element's role, and the
// System attributes procbeat keeps.
func (d *Decoder) start(s *scanner, local []byte) (int, string, error) {
	r := &d.Rec
	depth := len(d.stack)
	e := elem{tag: local, vs: len(d.vals)}
	var parent *elem
	if depth > 0 {
		parent = &d.stack[depth-1]
		parent.hasChild = true
	}
	switch {
	case depth == 0:
		if string(local) != "Event" {
			return 0, "", fmt.Errorf("root element is <%s>, not <Event>", local)
		}
	case depth == 2 && string(parent.tag) == "System":
		e.role = rSystemField
		for _, a := range d.attrs {
			v := d.abuf[a.vs:a.ve]
			switch string(local) {
			case "Provider":
				if string(a.local) == "Name" {
					r.Provider = d.intern(v)
				}
			case "TimeCreated":
				if string(a.local) == "SystemTime" {
					d.tbuf = append(d.tbuf[:0], v...)
				}
			case "Execution":
				switch string(a.local) {
				case "ProcessID":
					n, err := parseUintBytes(v, 32)
					if err != nil {
						return s.line(s.pos) - 1, "System/Execution/@ProcessID", err
					}
					r.ProcessID = uint32(n)
				case "ThreadID":
					n, err := parseUintBytes(v, 32)
					if err != nil {
						return s.line(s.pos) - 1, "System/Execution/@ThreadID", err
					}
					r.ThreadID = uint32(n)
				}
			case "Security":
				if string(a.local) == "UserID" {
					r.UserID = d.intern(v)
				}
			}
		}
	case depth == 2 && string(parent.tag) == "EventData":
		e.role = rData
		if string(local) != "Data" {
			e.name = d.intern(local)
			break
		}
		var name []byte
		for _, a := range d.attrs {
			if string(a.local) == "Name" {
				name = d.abuf[a.vs:a.ve]
			}
		}
		if len(name) > 0 {
			e.name = d.intern(name)
		} else {
			d.unnamed++
			d.skip = strconv.AppendInt(append(d.skip[:0], "param"...), int64(d.unnamed), 10)
			e.name = d.intern(d.skip)
		}
	case depth >= 2 && (string(parent.tag) == "UserData" && depth == 2 || parent.role == rUserData):
		e.role = rUserData
	}
	d.stack = append(d.stack, e)
	return 0, "", nil
}

// end handles an end tag (or the end of a self-closing one).
func (d *Decoder) end(s *scanner, local []byte) (int, string, error) {
	r := &d.Rec
	n := len(d.stack)
	if n == 0 {
		return s.line(s.pos) - 1, "", fmt.Errorf("unexpected </%s>", local)
	}
	e := d.stack[n-1]
	if !bytes.Equal(e.tag, local) {
		return s.line(s.pos) - 1, "", fmt.Errorf("element <%s> closed by </%s>", e.tag, local)
	}
	d.stack = d.stack[:n-1]
	text := d.vals[e.vs:]
	switch e.role {
	case rSystemField:
		var err error
		var v uint64
		switch string(e.tag) {
		case "EventID":
			v, err = parseUintBytes(bytes.TrimSpace(text), 16)
			r.EventID, d.haveID = uint16(v), err == nil
		case "Version":
			v, err = parseUintBytes(bytes.TrimSpace(text), 8)
			r.Version = uint8(v)
		case "EventRecordID":
			r.RecordID, err = parseUintBytes(bytes.TrimSpace(text), 64)
		case "Channel":
			r.Channel = d.intern(bytes.TrimSpace(text))
		case "Computer":
			r.Computer = d.intern(bytes.TrimSpace(text))
		}
		if err != nil {
			return s.line(s.pos) - 1, "System/" + string(e.tag), err
		}
		d.vals = d.vals[:e.vs]
	case rData:
		d.items = append(d.items, item{name: e.name, vs: e.vs, ve: len(d.vals)})
	case rUserData:
		if !e.hasChild {
			d.items = append(d.items, item{name: d.intern(e.tag), vs: e.vs, ve: len(d.vals)})
		}
	}
	return 0, "", nil
}

// parseUintBytes is parseUint on bytes: plain decimal digits without a
// string, anything else (spaces, hex, errors) through parseUint.
func parseUintBytes(b []byte, bits int) (uint64, error) {
	if len(b) > 0 && len(b) <= 19 {
		var v uint64
		plain := true
		for _, c := range b {
			if c < '0' || c > '9' {
				plain = false
				break
			}
			v = v*10 + uint64(c-'0')
		}
		if plain && (bits == 64 || v>>bits == 0) {
			return v, nil
		}
	}
	return parseUint(string(b), bits)
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
