package mapping

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/procbeat/procbeat/internal/lower"
	"github.com/procbeat/procbeat/module/process/winfmt"
	"github.com/procbeat/procbeat/winevent"
)

// field is an event data value the mapping reads. Naming values by a
// number rather than by their name lets a record's values be found
// through a layout (below) instead of a search of its data per value.
type field uint8

// The fields, in no particular order; fieldNames spells them.
const (
	fCallTrace field = iota
	fCommandLine
	fCompany
	fCurrentDirectory
	fDescription
	fFileVersion
	fGrantedAccess
	fHashes
	fImage
	fImageLoaded
	fIntegrityLevel
	fLogonID
	fMandatoryLabel
	fNewProcessID
	fNewProcessName
	fOriginalFileName
	fParentCommandLine
	fParentImage
	fParentProcessGUID
	fParentProcessID
	fParentProcessName
	fProcessGUID
	fProcessID
	fProcessName
	fProduct
	fSignature
	fSignatureStatus
	fSigned
	fSourceImage
	fSourceProcessGUID
	fSourceProcessID
	fSourceThreadID
	fSourceUser
	fStatus
	fSubjectDomainName
	fSubjectLogonID
	fSubjectUserName
	fSubjectUserSid
	fTargetDomainName
	fTargetImage
	fTargetLogonID
	fTargetProcessGUID
	fTargetProcessID
	fTargetUser
	fTargetUserName
	fTargetUserSid
	fTerminalSessionID
	fTokenElevationType
	fUser
	fUtcTime
	numFields
)

// fieldNames are the event data names of the fields.
var fieldNames = [numFields]string{
	fCallTrace:          "CallTrace",
	fCommandLine:        "CommandLine",
	fCompany:            "Company",
	fCurrentDirectory:   "CurrentDirectory",
	fDescription:        "Description",
	fFileVersion:        "FileVersion",
	fGrantedAccess:      "GrantedAccess",
	fHashes:             "Hashes",
	fImage:              "Image",
	fImageLoaded:        "ImageLoaded",
	fIntegrityLevel:     "IntegrityLevel",
	fLogonID:            "LogonId",
	fMandatoryLabel:     "MandatoryLabel",
	fNewProcessID:       "NewProcessId",
	fNewProcessName:     "NewProcessName",
	fOriginalFileName:   "OriginalFileName",
	fParentCommandLine:  "ParentCommandLine",
	fParentImage:        "ParentImage",
	fParentProcessGUID:  "ParentProcessGuid",
	fParentProcessID:    "ParentProcessId",
	fParentProcessName:  "ParentProcessName",
	fProcessGUID:        "ProcessGuid",
	fProcessID:          "ProcessId",
	fProcessName:        "ProcessName",
	fProduct:            "Product",
	fSignature:          "Signature",
	fSignatureStatus:    "SignatureStatus",
	fSigned:             "Signed",
	fSourceImage:        "SourceImage",
	fSourceProcessGUID:  "SourceProcessGUID",
	fSourceProcessID:    "SourceProcessId",
	fSourceThreadID:     "SourceThreadId",
	fSourceUser:         "SourceUser",
	fStatus:             "Status",
	fSubjectDomainName:  "SubjectDomainName",
	fSubjectLogonID:     "SubjectLogonId",
	fSubjectUserName:    "SubjectUserName",
	fSubjectUserSid:     "SubjectUserSid",
	fTargetDomainName:   "TargetDomainName",
	fTargetImage:        "TargetImage",
	fTargetLogonID:      "TargetLogonId",
	fTargetProcessGUID:  "TargetProcessGUID",
	fTargetProcessID:    "TargetProcessId",
	fTargetUser:         "TargetUser",
	fTargetUserName:     "TargetUserName",
	fTargetUserSid:      "TargetUserSid",
	fTerminalSessionID:  "TerminalSessionId",
	fTokenElevationType: "TokenElevationType",
	fUser:               "User",
	fUtcTime:            "UtcTime",
}

func (k field) String() string { return fieldNames[k] }

// account names the four values a Security event gives of one account
// (its Subject or its Target).
type account struct{ domain, user, logon, sid field }

var (
	subject = account{fSubjectDomainName, fSubjectUserName, fSubjectLogonID, fSubjectUserSid}
	target  = account{fTargetDomainName, fTargetUserName, fTargetLogonID, fTargetUserSid}
)

// layout is where a record's data holds each field. Records of one event
// template (provider, event id, version) carry the same names in the same
// order, so the positions worked out for one serve all the records whose
// names are the same: checking the names (equal pointers, mostly: readers
// intern them) costs less than searching the data by name for each of
// the twenty-odd values an event gives.
type layout struct {
	// names are the data names of the records the layout is for.
	names []string
	// pos is 1 + the index in the data of each field's first value,
	// 0 when the records have none: Record.Get returns the first.
	pos [numFields]uint8
}

// maxLayoutNames bounds the data a layout describes (pos holds indexes
// below 255); records with more values are read through a layout made
// for them alone (layouts.scratch).
const maxLayoutNames = 254

// fits reports whether the layout is data's: same names, same order.
func (l *layout) fits(data []winevent.Data) bool {
	if len(data) != len(l.names) {
		return false
	}
	for i := range data {
		a, b := data[i].Name, l.names[i]
		if len(a) != len(b) {
			return false
		}
		if unsafe.StringData(a) != unsafe.StringData(b) {
			if a != b {
				return false
			}
			// The same name in other memory (another reader, or one
			// that interns anew): the next records likely share it.
			l.names[i] = a
		}
	}
	return true
}

// fill makes l the layout of data. It shares data's names, which readers
// intern, so that records of its template mostly give names of the same
// memory: a kept layout may thus keep a reader's buffer alive, but there
// are at most maxLayouts of them.
func (l *layout) fill(data []winevent.Data) {
	l.pos = [numFields]uint8{}
	l.names = l.names[:0]
	for i := range data {
		name := data[i].Name
		l.names = append(l.names, name)
		if i >= maxLayoutNames {
			continue
		}
		if k, ok := fieldOf(name); ok && l.pos[k] == 0 {
			l.pos[k] = uint8(i + 1)
		}
	}
}

// fieldOf is the field named name.
func fieldOf(name string) (field, bool) {
	for k := range numFields {
		if fieldNames[k] == name {
			return k, true
		}
	}
	return 0, false
}

// maxLayouts is how many layouts a Mapper keeps: the templates of the
// five event kinds mapped, in the few versions a collection mixes.
const maxLayouts = 16

// layouts are a Mapper's most recently used layouts.
type layouts struct {
	recent  [maxLayouts]*layout // most recently used first; nil past the last
	scratch layout              // for records no kept layout can describe
}

// of returns the layout of rec's data, kept or made: it stays valid
// until the next call.
func (ls *layouts) of(rec *winevent.Record) *layout {
	for i, l := range ls.recent {
		if l == nil {
			break
		}
		if l.fits(rec.Data) {
			if i > 0 {
				copy(ls.recent[1:i+1], ls.recent[:i])
				ls.recent[0] = l
			}
			return l
		}
	}
	if len(rec.Data) > maxLayoutNames {
		ls.scratch.fill(rec.Data)
		return &ls.scratch
	}
	// A new template: the least recently used layout makes room.
	l := ls.recent[maxLayouts-1]
	if l == nil {
		l = new(layout)
	}
	l.fill(rec.Data)
	copy(ls.recent[1:], ls.recent[:maxLayouts-1])
	ls.recent[0] = l
	return l
}

// fields reads a record's event data through its layout.
type fields struct {
	rec *winevent.Record
	l   *layout
}

// fieldsOf reads rec; it is valid until the next record.
func (m *Mapper) fieldsOf(rec *winevent.Record) fields {
	return fields{rec, m.layouts.of(rec)}
}

// raw is the value of k as Record.Get gives it: "" when absent.
func (f fields) raw(k field) string {
	if p := f.l.pos[k]; p > 0 {
		return f.rec.Data[p-1].Value
	}
	if len(f.rec.Data) > maxLayoutNames {
		// Past what a layout holds.
		v, _ := f.rec.Get(fieldNames[k])
		return v
	}
	return ""
}

// get returns the value of k exactly as logged, or "" when it is absent
// or a placeholder (winfmt.IsAbsent). Nothing is trimmed: rules compare
// command lines, paths and names byte for byte, and a trailing space is
// part of what the process was given.
func (f fields) get(k field) string {
	return winfmt.Present(f.raw(k))
}

// id reads a value that is a number, GUID, SID or logon id, where padding
// carries no meaning: surrounding white space is dropped.
func (f fields) id(k field) string {
	return winfmt.Present(winfmt.TrimSpace(f.raw(k)))
}

// guid reads a GUID in upper case: exports differ in case (EVTX renders
// upper, some JSON exports lower), and one process must keep one entity id.
// Anything but a braced GUID is an error naming the field: it would be an
// entity id that links unrelated processes (every "garbage" alike).
func (f fields) guid(k field) (string, error) {
	v := f.id(k)
	if v == "" {
		return "", nil
	}
	if !isGUID(v) {
		return "", &FieldError{Field: fieldNames[k], Value: v, Err: errors.New("not a GUID ({xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx})")}
	}
	if lower.IsUpper(v) {
		// As EVTX renders them: checked a word at a time.
		return v, nil
	}
	return strings.ToUpper(v), nil
}

// isGUID reports whether s is a GUID as Windows writes one, in braces.
// It runs for every start, end and access (two GUIDs each): the digits
// are checked without a branch per byte.
func isGUID(s string) bool {
	if len(s) != 38 || s[0] != '{' || s[37] != '}' || s[9] != '-' || s[14] != '-' || s[19] != '-' || s[24] != '-' {
		return false
	}
	return isHex(s[1:9]) && isHex(s[10:14]) && isHex(s[15:19]) && isHex(s[20:24]) && isHex(s[25:37])
}

// isHex reports whether s is all hex digits.
func isHex(s string) bool {
	var bad uint8
	for i := 0; i < len(s); i++ {
		c := s[i]
		// Neither a digit nor a letter a-f of either case.
		bad |= b2u(c-'0' > 9) & b2u((c|0x20)-'a' > 5)
	}
	return bad == 0
}

// b2u is 1 for true (a SETcc, no branch).
func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// pid reads a process id (decimal or hex) that must be there.
func (f fields) pid(k field, hex bool) (uint32, error) {
	v := f.id(k)
	if v == "" {
		return 0, &FieldError{Field: fieldNames[k], Err: fmt.Errorf("missing")}
	}
	var p uint32
	var err error
	if hex {
		p, err = winfmt.ParseHexPID(v)
	} else {
		p, err = winfmt.ParsePID(v)
	}
	if err != nil {
		return 0, &FieldError{Field: fieldNames[k], Value: v, Err: err}
	}
	return p, nil
}

// optionalPID reads a process id that may be absent.
func (f fields) optionalPID(k field, hex bool) (uint32, bool, error) {
	if f.id(k) == "" {
		return 0, false, nil
	}
	p, err := f.pid(k, hex)
	return p, err == nil, err
}
