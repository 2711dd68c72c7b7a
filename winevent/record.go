// Package winevent defines the one typed record that every procbeat source
// (EVTX files, rendered XML, JSON exports, the live Windows Event Log)
// produces and that the mapping consumes. It depends on nothing else in
// procbeat so that readers such as the EVTX parser can fill it directly.
package winevent

import "time"

// Record is one Windows event: the System header plus the event's data as
// ordered name/value pairs. Values are kept as the text Windows renders
// (wevtutil / EvtRender form): decimal integers, hex integers as 0x..., GUIDs
// in upper case with braces, SIDs as S-1-..., times in RFC 3339 UTC.
type Record struct {
	Provider    string    // System/Provider/@Name, e.g. Microsoft-Windows-Sysmon
	EventID     uint16    // System/EventID
	Version     uint8     // System/Version (schema version of the event data)
	RecordID    uint64    // System/EventRecordID
	Channel     string    // System/Channel
	Computer    string    // System/Computer (usually the FQDN)
	TimeCreated time.Time // System/TimeCreated/@SystemTime, UTC
	UserID      string    // System/Security/@UserID (SID of the logging service), may be empty
	ProcessID   uint32    // System/Execution/@ProcessID
	ThreadID    uint32    // System/Execution/@ThreadID

	// Data holds EventData (or flattened UserData) in document order.
	Data []Data
}

// Data is one named event data value.
type Data struct {
	Name  string
	Value string
}

// Get returns the value of the first data item called name.
//
// The mapping asks for some twenty names per event among as many items, so
// most comparisons fail: the length and the last byte, compared inline,
// settle nearly all of them (names of one length, such as ProcessGuid,
// CommandLine and ParentImage, rarely share their last byte) before a
// call compares the rest.
func (r *Record) Get(name string) (string, bool) {
	if name == "" {
		for i := range r.Data {
			if r.Data[i].Name == "" {
				return r.Data[i].Value, true
			}
		}
		return "", false
	}
	last := name[len(name)-1]
	for i := range r.Data {
		d := &r.Data[i]
		if len(d.Name) == len(name) && d.Name[len(d.Name)-1] == last && d.Name == name {
			return d.Value, true
		}
	}
	return "", false
}

// Reset clears r for reuse while keeping the Data slice's capacity, so a
// reader can decode record after record into the same value.
func (r *Record) Reset() {
	data := r.Data[:0]
	*r = Record{Data: data}
}

// Well-known providers and channels.
const (
	ProviderSysmon   = "Microsoft-Windows-Sysmon"
	ProviderSecurity = "Microsoft-Windows-Security-Auditing"
	ChannelSysmon    = "Microsoft-Windows-Sysmon/Operational"
	ChannelSecurity  = "Security"
)
