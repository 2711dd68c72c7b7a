// Package jsonevent decodes JSON exports of Windows events into
// winevent.Record values. It reads NDJSON, concatenated or pretty-printed
// objects and a top-level JSON array, and detects the layout of each object
// on its own:
//
//   - Winlogbeat 7 and later: winlog.provider_name, winlog.event_id,
//     winlog.version, winlog.record_id, winlog.channel, winlog.computer_name,
//     winlog.user.identifier, winlog.process.pid, winlog.process.thread.id,
//     @timestamp, winlog.event_data.* and winlog.user_data.*.
//   - Winlogbeat 6: the same at the top level as source_name, event_id,
//     version, record_number, log_name, computer_name, user.identifier,
//     process_id, thread_id, event_data.*, user_data.*.
//   - Flat (NXLog im_msvistalog, OTRF Security-Datasets): EventID,
//     SourceName, Channel, Hostname, RecordNumber, Version, EventTime or
//     TimeCreated, ExecutionProcessID, ThreadID, UserID, with the event data
//     as the remaining top-level keys. NXLog and Logstash metadata (Message,
//     Task, Keywords, Severity, @timestamp, tags, ...) is not event data.
//     EventType, AccountName, AccountType, Domain, UserID, Category and
//     Opcode are treated as NXLog metadata only when the object carries
//     NXLog's SourceModuleType or EventReceivedTime; otherwise (OTRF's reduced
//     exports) they are event data, as Sysmon's registry events have an
//     EventType field.
//   - procbeat's own `evtx dump --format json`: Provider, EventID, Version,
//     RecordID, Channel, Computer, TimeCreated (RFC 3339, UTC), UserID,
//     ProcessID, ThreadID, and the event data as a top-level Data array of
//     {"Name","Value"} objects. The scanner reads that array's pairs in its
//     one pass (dataPairs), and a record that has them is of this layout
//     unless it is Winlogbeat's. The dump's {"error": ...} lines (damage
//     the dump met: a chunk's bad checksum, a record it could not read)
//     are reported as errors, with the dump's words, as replaying the EVTX
//     reports the damage. (Replaying the EVTX decodes only the records it
//     maps, so a record it skips can only fail in the dump.)
//
// A record that has the event id of a process event (Sysmon 1, 5, 10,
// Security 4688, 4689) but no provider, in a channel that is empty or the
// one of that provider, is of a layout the decoder did not place (the
// provider's key is not one it knows): it is reported as an error
// (ErrNoProvider) rather than passed on to be counted as not a process
// event, which would lose it without a word.
//
// Event data values are rendered as Windows renders them: JSON strings as
// they are (hex stays hex), numbers as their literal text (decimal),
// booleans as true/false, null as an empty value, arrays as their JSON text.
// Timestamps without a zone (NXLog EventTime, OTRF TimeCreated: the
// collector's local time) are read as zone.go says: in Options.Location when
// it is set, else in the zone the record's own @timestamp (UTC, written by
// the shipper moments later) tells, else as UTC, with a notice.
package jsonevent

import (
	"bufio"
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

// DefaultMaxRecordSize caps one JSON record (one line of NDJSON).
const DefaultMaxRecordSize = 4 << 20

// maxInterned bounds the table of interned data names.
const maxInterned = 4096

// Decoder reads records from a JSON stream. It implements decode.Reader.
type Decoder struct {
	decode.Base
	opts decode.Options
	fr   framer
	// zoneNoted is set once the input had a zone-less time that nothing
	// told the zone of, and a notice said so.
	zoneNoted bool
	sc        scanner
	intern    map[string]string
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
		Base:   decode.Base{Name: name, Log: decode.NewErrorLog(opts), From: opts.From},
		opts:   opts,
		fr:     framer{r: br, max: opts.MaxRecordSize, line: 1},
		intern: make(map[string]string),
	}
}

// Next advances to the next good record.
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
			case d.fr.array:
				// A cut copy of an array export: every record
				// before the cut is complete, the file is not.
				d.fr.array = false
				if !d.opts.Growing {
					d.ReportTruncated(d.fr.endLine(), d.fr.openArray())
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
			d.Report(fr.line, "", fmt.Errorf("record of %d bytes exceeds the %d byte limit", fr.size, d.opts.MaxRecordSize))
			continue
		}
		d.Line = fr.line
		field, err := d.decode(fr.data)
		if err != nil {
			d.Report(fr.line, field, err)
			continue
		}
		return true
	}
}

// Offset returns the input offset just past the current record (in the
// UTF-8 text after any transcoding): where reading may resume.
func (d *Decoder) Offset() int64 { return d.fr.off }

// ResumeInArray tells a decoder that starts reading inside a top-level
// array (resuming after one of its records) that the array is open, so the
// separating commas and the closing bracket are not taken for garbage.
// Call it before the first Next.
func (d *Decoder) ResumeInArray() { d.fr.array, d.fr.begun = true, true }

type layout int

const (
	layoutFlat layout = iota + 1
	layoutBeat6
	layoutBeat7
	layoutDump
)

var errNoEventID = errors.New("no event id (winlog.event_id, event_id or EventID)")

// ErrNoProvider is matched by the error of a record that has the event id
// of a process event and no provider name: procbeat cannot tell whether it
// is a process event, and does not drop it silently.
var ErrNoProvider = errors.New("no provider name")

// errDumpData is the error of a dump record whose Data is not an array of
// Name/Value objects.
var errDumpData = errors.New(`not an array of {"Name": string, "Value": string} objects`)

// decode parses one framed object into d.Rec. On error it returns the name
// of the offending field.
func (d *Decoder) decode(data []byte) (string, error) {
	sc := &d.sc
	sc.reset(data)
	if err := sc.parse(); err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			return se.Path, err
		}
		return "", err
	}
	// One string holds every value of the record; fields are substrings.
	if !utf8.Valid(sc.vals) {
		return d.build(func(f *field) string {
			return strings.ToValidUTF8(string(sc.vals[f.vs:f.ve]), "\uFFFD")
		})
	}
	vals := string(sc.vals)
	return d.build(func(f *field) string { return vals[f.vs:f.ve] })
}

func (d *Decoder) key(f *field) []byte { return d.sc.keyStore[f.ks:f.ke] }

func (d *Decoder) detect() layout {
	l := layout(0)
	// provider and data say a record without pairs is a dump whose Data
	// is of another shape: Provider is no key of the flat layout.
	provider, data := false, false
	for i := range d.sc.fields {
		f := &d.sc.fields[i]
		if d.sc.pairs && f.pair {
			continue
		}
		k := d.key(f)
		switch {
		case hasPrefix(k, "winlog."):
			return layoutBeat7
		case hasPrefix(k, "event_data.") || string(k) == "event_id" || string(k) == "source_name":
			l = layoutBeat6
		case string(k) == "EventID" && l == 0:
			l = layoutFlat
		case string(k) == "Provider" && f.depth == 0:
			provider = true
		case string(k) == "Data" && f.depth == 0 && f.kind == kArray:
			data = true
		}
	}
	if l == layoutFlat && (d.sc.pairs || provider && data) {
		return layoutDump
	}
	return l
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

// dataName returns an interned string for a data name.
func (d *Decoder) dataName(b []byte) string {
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.intern) < maxInterned {
		d.intern[s] = s
	}
	return s
}

// sysField says how a header key feeds the record.
type sysField int

const (
	sNone sysField = iota
	sProvider
	sEventID
	sVersion
	sRecordID
	sChannel
	sComputer
	sTime      // RFC 3339 time (@timestamp of Winlogbeat)
	sLocalTime // zone-less local time (NXLog EventTime, OTRF TimeCreated)
	sUserID
	sPID
	sTID
	sMeta      // metadata, not event data
	sNXLogMeta // metadata only when the object comes from NXLog
)

func beat7Field(k []byte) sysField {
	switch string(k) {
	case "winlog.provider_name":
		return sProvider
	case "winlog.event_id":
		return sEventID
	case "winlog.version":
		return sVersion
	case "winlog.record_id":
		return sRecordID
	case "winlog.channel":
		return sChannel
	case "winlog.computer_name":
		return sComputer
	case "@timestamp":
		return sTime
	case "winlog.user.identifier":
		return sUserID
	case "winlog.process.pid":
		return sPID
	case "winlog.process.thread.id":
		return sTID
	}
	return sNone
}

func beat6Field(k []byte) sysField {
	switch string(k) {
	case "source_name":
		return sProvider
	case "event_id":
		return sEventID
	case "version":
		return sVersion
	case "record_number":
		return sRecordID
	case "log_name":
		return sChannel
	case "computer_name":
		return sComputer
	case "@timestamp":
		return sTime
	case "user.identifier":
		return sUserID
	case "process_id":
		return sPID
	case "thread_id":
		return sTID
	}
	return sNone
}

func flatField(k []byte) sysField {
	switch string(k) {
	case "SourceName", "ProviderName":
		return sProvider
	case "EventID":
		return sEventID
	case "Version":
		return sVersion
	case "RecordNumber", "EventRecordID":
		return sRecordID
	case "Channel":
		return sChannel
	case "Hostname", "Computer":
		return sComputer
	case "EventTime", "TimeCreated":
		return sLocalTime
	case "ExecutionProcessID":
		return sPID
	case "ExecutionThreadID":
		return sTID
	case "ThreadID", "UserID", "EventType", "AccountName", "AccountType", "Domain", "Category", "Opcode":
		return sNXLogMeta
	case "@timestamp", "@version", "@metadata", "tags", "host", "port", "type",
		"Message", "Task", "Keywords", "Severity", "SeverityValue", "Level", "OpcodeValue",
		"ProviderGuid", "EventReceivedTime", "SourceModuleName", "SourceModuleType",
		"ActivityID", "RelatedActivityID":
		return sMeta
	}
	return sNone
}

// dumpField reads the keys of evtx dump's records (evtx/dumpjson.go);
// the event data are the Data pairs, so any other key is not.
func dumpField(k []byte) sysField {
	switch string(k) {
	case "Provider":
		return sProvider
	case "EventID":
		return sEventID
	case "Version":
		return sVersion
	case "RecordID":
		return sRecordID
	case "Channel":
		return sChannel
	case "Computer":
		return sComputer
	case "TimeCreated":
		return sTime
	case "UserID":
		return sUserID
	case "ProcessID":
		return sPID
	case "ThreadID":
		return sTID
	}
	return sMeta
}

func (d *Decoder) build(val func(*field) string) (string, error) {
	r := &d.Rec
	r.Reset()
	lay := d.detect()
	if lay == 0 {
		return d.noEventID(val)
	}
	nxlog := false
	if lay == layoutFlat {
		for i := range d.sc.fields {
			if k := d.key(&d.sc.fields[i]); string(k) == "SourceModuleType" || string(k) == "EventReceivedTime" {
				nxlog = true
				break
			}
		}
	}
	var (
		haveID bool
		// zoned is Winlogbeat's @timestamp or the dump's TimeCreated,
		// both with their zone (zonedKey says which); localTime the
		// flat layout's zone-less EventTime or TimeCreated (localKey
		// says which) and stamp its @timestamp, written by the
		// shipper; fallback Winlogbeat 7's event.code.
		zoned, zonedKey, localTime, localKey, stamp, fallback string
		// otherPairs says there are Data pairs to skip.
		otherPairs = d.sc.pairs && lay != layoutDump
	)
	for i := range d.sc.fields {
		f := &d.sc.fields[i]
		k := d.key(f)
		var sf sysField
		if otherPairs && f.pair {
			continue // the pairs are the dump's, nothing in another layout
		}
		switch lay {
		case layoutDump:
			if f.pair {
				r.Data = append(r.Data, winevent.Data{Name: d.dataName(k), Value: val(f)})
				continue
			}
			if sf = dumpField(k); sf == sMeta || f.depth > 0 {
				if string(k) == "Data" && f.depth == 0 {
					return "Data", errDumpData
				}
				continue
			}
		case layoutBeat7:
			sf = beat7Field(k)
			if sf == sNone {
				if hasPrefix(k, "winlog.event_data.") {
					r.Data = append(r.Data, winevent.Data{Name: d.dataName(k[len("winlog.event_data."):]), Value: val(f)})
				} else if hasPrefix(k, "winlog.user_data.") && !hasSuffix(k, "xml_name") {
					r.Data = append(r.Data, winevent.Data{Name: d.dataName(lastSegment(k)), Value: val(f)})
				} else if string(k) == "event.code" && !haveID {
					fallback = val(f)
				}
				continue
			}
		case layoutBeat6:
			sf = beat6Field(k)
			if sf == sNone {
				if hasPrefix(k, "event_data.") {
					r.Data = append(r.Data, winevent.Data{Name: d.dataName(k[len("event_data."):]), Value: val(f)})
				} else if hasPrefix(k, "user_data.") && !hasSuffix(k, "xml_name") {
					r.Data = append(r.Data, winevent.Data{Name: d.dataName(lastSegment(k)), Value: val(f)})
				}
				continue
			}
		case layoutFlat:
			sf = flatField(k)
			if f.depth > 0 {
				sf = sMeta // nested objects are collector metadata
			}
			switch sf {
			case sNXLogMeta:
				if !nxlog {
					sf = sNone
				} else if string(k) == "UserID" {
					sf = sUserID
				} else if string(k) == "ThreadID" {
					sf = sTID
				} else {
					continue
				}
			case sMeta:
				if string(k) == "@timestamp" {
					stamp = val(f)
				}
				continue
			}
			if sf == sNone {
				r.Data = append(r.Data, winevent.Data{Name: d.dataName(k), Value: val(f)})
				continue
			}
		}
		v := val(f)
		var err error
		switch sf {
		case sProvider:
			r.Provider = v
		case sEventID:
			var n uint64
			n, err = parseUint(v, 16)
			r.EventID, haveID = uint16(n), err == nil
		case sVersion:
			var n uint64
			n, err = parseUint(v, 8)
			r.Version = uint8(n)
		case sRecordID:
			r.RecordID, err = parseUint(v, 64)
		case sChannel:
			r.Channel = v
		case sComputer:
			r.Computer = v
		case sTime:
			zoned, zonedKey = v, "@timestamp"
			if lay == layoutDump {
				zonedKey = "TimeCreated"
			}
		case sLocalTime:
			if localTime == "" {
				localTime, localKey = v, "TimeCreated"
				if string(k) == "EventTime" {
					localKey = "EventTime"
				}
			}
		case sUserID:
			r.UserID = v
		case sPID:
			var n uint64
			n, err = parseUint(v, 32)
			r.ProcessID = uint32(n)
		case sTID:
			var n uint64
			n, err = parseUint(v, 32)
			r.ThreadID = uint32(n)
		}
		if err != nil {
			return string(k), err
		}
	}
	if !haveID {
		if fallback == "" || lay != layoutBeat7 {
			return "", errNoEventID
		}
		n, err := parseUint(fallback, 16)
		if err != nil {
			return "event.code", err
		}
		r.EventID = uint16(n)
	}
	var err error
	switch {
	case zoned != "":
		r.TimeCreated, _, err = parseTime(zoned, time.UTC)
		if err != nil {
			return zonedKey, err
		}
	case localTime != "":
		r.TimeCreated, err = d.localTime(localKey, localTime, stamp)
		if err != nil {
			return localKey, err
		}
	case stamp != "":
		r.TimeCreated, _, err = parseTime(stamp, time.UTC)
		if err != nil {
			return "@timestamp", err
		}
	}
	if r.Provider == "" && processEventID(r.EventID, r.Channel) {
		return lay.providerKey(), fmt.Errorf("%w in a record read as of layout %q: its event %d (channel %q) may be a process event, which procbeat cannot tell from another provider's event %d",
			ErrNoProvider, lay, r.EventID, r.Channel, r.EventID)
	}
	return "", nil
}

// processEventID says whether a record of event id id in channel ch, whose
// provider is not known, may be a process event: a Sysmon 1, 5 or 10 in
// Sysmon's channel, a Security 4688 or 4689 in Security, or either with no
// channel. Another channel's event 1 is some other provider's.
func processEventID(id uint16, ch string) bool {
	switch id {
	case 1, 5, 10:
		return ch == "" || strings.EqualFold(ch, winevent.ChannelSysmon)
	case 4688, 4689:
		return ch == "" || strings.EqualFold(ch, winevent.ChannelSecurity)
	}
	return false
}

// providerKey is the key the provider is looked for under in layout l:
// the field of an ErrNoProvider.
func (l layout) providerKey() string {
	switch l {
	case layoutBeat6:
		return "source_name"
	case layoutBeat7:
		return "winlog.provider_name"
	case layoutDump:
		return "Provider"
	}
	return "SourceName"
}

func (l layout) String() string {
	switch l {
	case layoutBeat6:
		return "Winlogbeat 6"
	case layoutBeat7:
		return "Winlogbeat 7 and later"
	case layoutDump:
		return "procbeat evtx dump"
	}
	return "flat: NXLog, OTRF"
}

// noEventID is the error of a record of no layout: one without an event
// id, or an error line of evtx dump (an object of one "error" string),
// which says what damage the dump met.
func (d *Decoder) noEventID(val func(*field) string) (string, error) {
	if fs := d.sc.fields; len(fs) == 1 && fs[0].depth == 0 && fs[0].kind == kString && string(d.key(&fs[0])) == "error" {
		return "", fmt.Errorf("an error line of procbeat evtx dump: %s", val(&fs[0]))
	}
	return "", errNoEventID
}

func hasSuffix(b []byte, s string) bool { return len(b) >= len(s) && string(b[len(b)-len(s):]) == s }

func lastSegment(k []byte) []byte {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == '.' {
			return k[i+1:]
		}
	}
	return k
}

// parseUint reads a decimal or 0x-prefixed hex integer of the given size.
func parseUint(s string, bits int) (uint64, error) {
	s = strings.TrimSpace(s)
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return strconv.ParseUint(s[2:], 16, bits)
	}
	return strconv.ParseUint(s, 10, bits)
}
