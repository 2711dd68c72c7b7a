package xmlevent

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The encoding/xml decoding that the scanner (scan.go) replaced, kept as
// the reference FuzzScanMatchesXML compares it with.

// decodeReference parses one <Event> element with encoding/xml. On error it returns the line within
// the event (0-based) and the offending field.
// refElem is the reference's element of the open-element stack.
type refElem struct {
	tag      string
	name     string
	vs       int
	hasChild bool
	role     role
}

func (d *Decoder) decodeReference(data []byte) (int, string, error) {
	r := &d.Rec
	r.Reset()
	var stack []refElem
	d.vals, d.items = d.vals[:0], d.items[:0]
	xd := xml.NewDecoder(bytes.NewReader(data))
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
			if len(stack) > 0 {
				return lineOf(xd), "", fmt.Errorf("element <%s> is not closed", stack[len(stack)-1].tag)
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
			depth := len(stack)
			e := refElem{tag: t.Name.Local, name: t.Name.Local, vs: len(d.vals)}
			var parent *refElem
			if depth > 0 {
				parent = &stack[depth-1]
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
			stack = append(stack, e)
		case xml.CharData:
			if n := len(stack); n > 0 && stack[n-1].role != rOther {
				d.vals = append(d.vals, t...)
			}
		case xml.EndElement:
			n := len(stack)
			if n == 0 {
				return lineOf(xd), "", fmt.Errorf("unexpected </%s>", t.Name.Local)
			}
			e := stack[n-1]
			if e.tag != t.Name.Local {
				return lineOf(xd), "", fmt.Errorf("element <%s> closed by </%s>", e.tag, t.Name.Local)
			}
			stack = stack[:n-1]
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
	return d.finish(haveID, timeStr)
}

// lineOf returns the decoder's current line within the event, 0-based.
func lineOf(xd *xml.Decoder) int {
	line, _ := xd.InputPos()
	return line - 1
}
