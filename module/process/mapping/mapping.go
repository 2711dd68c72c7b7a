// Package mapping turns Windows events (winevent.Record) into Elastic
// Defend-shaped documents: Sysmon 1 and Security 4688 become process start
// events, Sysmon 5 and Security 4689 end events, Sysmon 10 access (API)
// events. The tracker fills what an event lacks (parents, ancestry, the start
// details of an end event, user SIDs). The mapping knows nothing of files or
// outputs.
package mapping

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/internal/lower"
	"github.com/procbeat/procbeat/module/process/argv"
	"github.com/procbeat/procbeat/module/process/tracker"
	"github.com/procbeat/procbeat/module/process/winfmt"
	"github.com/procbeat/procbeat/version"
	"github.com/procbeat/procbeat/winevent"
)

// Kind is what a record became.
type Kind uint8

// Kinds of documents.
const (
	None   Kind = iota // not a process event: skipped
	Start              // process start (Sysmon 1, Security 4688)
	End                // process end (Sysmon 5, Security 4689)
	Access             // process access (Sysmon 10)
)

func (k Kind) String() string {
	return [...]string{"none", "start", "end", "access"}[k]
}

// Datasets of the documents.
const (
	ProcessDataset = "endpoint.events.process"
	APIDataset     = "endpoint.events.api"
)

// Host is metadata the events cannot supply.
type Host struct {
	// ID is this machine's id, the host.id of events whose host name is
	// Name (or whose short name is Name's). Events of other hosts get the
	// id Options.HostIDs gives them or one derived from their name.
	ID, Name                               string
	Architecture                           string
	IP, MAC                                []string
	OSVersion, OSFull, OSKernel, OSVariant string
}

// Options configure a Mapper.
type Options struct {
	Namespace      string // data stream namespace, default "default"
	AgentID        string // agent.id
	ElasticAgentID string // elastic.agent.id when managed by Elastic Agent
	Host           Host
	// HostIDs gives host.id per host name, lower case: a host.name, or a
	// short name (host.hostname) that then holds for every domain.
	HostIDs map[string]string
	// HostMeta, when set, replaces Host for host.architecture, host.ip,
	// host.mac and host.os: it returns the metadata of the host a record's
	// lower-cased Computer names, or nil for another host (events forwarded
	// to a collector), whose documents then get none. host.id stays
	// HostIDs' and Host.ID's.
	HostMeta func(name string) *Host
	// Now gives event.created and event.ingested; tests fix it.
	Now func() time.Time
	// Images, when set, completes processes from their executable files
	// (hashes, PE facts, code signatures, file times).
	Images Images
	// Tags and Labels (the tags and fields settings) go on every
	// document as they are: shared, never modified.
	Tags   []string
	Labels document.RawObject
}

// Images fills what a process's executable file says; values the event
// already carries are kept. module/process/enrich/image implements it.
type Images interface {
	// FillProcess completes p, a process that started at start (zero
	// when unknown).
	FillProcess(host string, start time.Time, p *document.Process)
	// FillParent completes the parent's signature.
	FillParent(host string, p *document.ProcessParent)
	// ImageLoaded remembers what Sysmon (event 7) says of a loaded
	// image's signature, so that processes started from it get their
	// signature without reading the file.
	ImageLoaded(host string, l ImageLoad)
}

// Mapper maps records. It is not safe for concurrent use (it reuses
// buffers); the tracker it shares is.
type Mapper struct {
	opts    Options
	tr      *tracker.Tracker
	indices [4]string
	// others are the data streams of namespaces other than opts.Namespace
	// (inputs of their own namespace), made once each. IndexIn is called
	// by the publishers of concurrent runs (live channels), unlike the
	// rest of the Mapper: othersMu guards the map.
	othersMu sync.RWMutex
	others   map[string]*[4]string
	hashBuf  []byte
	hostIDs  hostIDs
	// lastHost caches the names and host.id of the last record's
	// Computer: records come in runs of one host.
	lastHost hostNames
	// arena holds the values only a document holds (message, event id,
	// call stack); scratch is where they are built.
	arena   arena
	scratch []byte
	args    []string
	// takeBytes is m.arena.bytes.take, made once.
	takeBytes func(n int) []byte
	// split caches the arguments of the command lines splitArgs split,
	// long the last line too long for it (documents share them
	// read-only).
	split strCache[[]string]
	long  cacheEntry[[]string]
	// layouts find the values of records in the templates seen last.
	layouts layouts
	// hashes are hashes as logged and lower-cased (lowerHash);
	// hashValues Hashes values split and lower-cased (hashesOf),
	// oneHashes one not cached.
	hashes     strCache[string]
	hashValues strCache[*winfmt.Hashes]
	oneHashes  winfmt.Hashes
	// uncs are the UNC paths of the network share images Security
	// events named by device path (image).
	uncs strCache[string]
	// frames are Sysmon 10 call stack frames as Defend writes them (by
	// the frame as logged), summaries the call stack summaries (by
	// themselves): a collection's traces repeat the same frames, and
	// documents then share the cache's strings instead of copies.
	frames    strCache[frameText]
	summaries strCache[string]
	// traces are whole call stacks by CallTrace as logged: a source
	// that reads one process's memory again and again logs the same
	// trace each time.
	traces strCache[callStackOf]
	// wellKnown is what sidFor found of the last names it was asked.
	wellKnown struct {
		domain, name, sid string
		known, set        bool
	}
}

// New returns a Mapper that enriches through tr.
func New(tr *tracker.Tracker, opts Options) *Mapper {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Mapper{opts: opts, tr: tr}
	m.hostIDs.init(opts.Host, opts.HostIDs)
	m.arena.init()
	m.takeBytes = m.arena.bytes.take
	m.indices = indices(opts.Namespace)
	m.split.init(argsSets, argsBudget)
	m.hashes.init(hashSets, hashBudget)
	m.hashValues.init(hashValueSets, hashValueBudget)
	m.uncs.init(uncSets, uncBudget)
	m.frames.init(frameSets, frameBudget)
	m.summaries.init(summarySets, summaryBudget)
	m.traces.init(traceSets, traceBudget)
	return m
}

func indices(ns string) (ix [4]string) {
	ix[Start] = "logs-" + ProcessDataset + "-" + ns
	ix[End] = ix[Start]
	ix[Access] = "logs-" + APIDataset + "-" + ns
	return ix
}

// Wants reports whether a record of this provider and event id maps to a
// document, so readers can skip everything else before decoding it.
func Wants(provider string, eventID uint16) bool {
	switch eventID {
	case 1, 5, 10:
		return provider == winevent.ProviderSysmon
	case 4688, 4689:
		return provider == winevent.ProviderSecurity
	}
	return false
}

// Wants is this Mapper's filter for readers: the records of Wants, and
// Sysmon 7 (image loads) when image enrichment uses them. Without
// enrichment, image loads (often most of a Sysmon log) are not decoded.
func (m *Mapper) Wants(provider string, eventID uint16) bool {
	if m.opts.Images != nil {
		return WantsWithImages(provider, eventID)
	}
	return Wants(provider, eventID)
}

// WantsWithImages is Wants and Sysmon 7 (image loads): the filter of a
// mapping with image enrichment.
func WantsWithImages(provider string, eventID uint16) bool {
	return Wants(provider, eventID) || (eventID == 7 && provider == winevent.ProviderSysmon)
}

// Index returns the data stream a document of kind k goes to.
func (m *Mapper) Index(k Kind) string { return m.indices[k] }

// IndexIn is the data stream of a document of kind k in namespace ns (its
// data_stream.namespace; "" is the mapper's). Each namespace's names are
// made once, so that documents of an input with a namespace of its own
// cost no garbage.
func (m *Mapper) IndexIn(k Kind, ns string) string {
	if ns == "" || ns == m.opts.Namespace {
		return m.indices[k]
	}
	m.othersMu.RLock()
	ix, ok := m.others[ns]
	m.othersMu.RUnlock()
	if !ok {
		m.othersMu.Lock()
		if ix, ok = m.others[ns]; !ok {
			if m.others == nil {
				m.others = map[string]*[4]string{}
			}
			v := indices(ns)
			ix = &v
			m.others[ns] = ix
		}
		m.othersMu.Unlock()
	}
	return ix[k]
}

// FieldError is a record value the mapping could not use.
type FieldError struct {
	Field string
	Value string
	Err   error
	// Omitted says the document was made without the value: Map returns
	// the error beside a document to publish (see Omitted).
	Omitted bool
}

// Omitted reports whether err, from Map, names a value left out of the
// document Map still made: the caller reports it and publishes the
// document. Any other error means the record made no document.
func Omitted(err error) bool {
	var fe *FieldError
	return errors.As(err, &fe) && fe.Omitted
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("field %s: value %q: %v", e.Field, e.Value, e.Err)
}
func (e *FieldError) Unwrap() error { return e.Err }

// Map fills d from rec. It returns None (and leaves d alone) for records that
// are not process events, and an error naming the field when a value that
// the document needs cannot be read; the caller reports it and goes on.
// An error for which Omitted is true comes with a document made without
// the value: the caller reports it and publishes the document.
func (m *Mapper) Map(rec *winevent.Record, d *document.Document) (Kind, error) {
	if !m.Wants(rec.Provider, rec.EventID) {
		return None, nil
	}
	if rec.EventID == 7 {
		// Image loads make no document; they tell signatures.
		m.imageLoad(rec)
		return None, nil
	}
	*d = document.Document{}
	var kind Kind
	var err error
	switch rec.EventID {
	case 1:
		kind, err = Start, m.sysmonStart(rec, d)
	case 5:
		kind, err = End, m.sysmonEnd(rec, d)
	case 10:
		kind, err = Access, m.sysmonAccess(rec, d)
	case 4688:
		kind, err = Start, m.securityStart(rec, d)
	case 4689:
		kind, err = End, m.securityEnd(rec, d)
	}
	if err != nil && !Omitted(err) {
		return None, err
	}
	if img := m.opts.Images; img != nil && kind != Access {
		var start time.Time
		if kind == Start {
			start = d.Timestamp
		}
		img.FillProcess(rec.Computer, start, &d.Process)
		img.FillParent(rec.Computer, &d.Process.Parent)
	}
	m.common(rec, kind, d)
	return kind, err
}

// common fills what every document carries.
func (m *Mapper) common(rec *winevent.Record, kind Kind, d *document.Document) {
	if d.Timestamp.IsZero() {
		d.Timestamp = rec.TimeCreated
	}
	d.Agent.Type = "endpoint"
	d.Agent.Version = version.Version
	d.Agent.ID = m.opts.AgentID
	d.Elastic.Agent.ID = m.opts.ElasticAgentID
	d.ECS.Version = version.ECS
	d.Tags, d.Labels = m.opts.Tags, m.opts.Labels
	d.DataStream.Type = "logs"
	d.DataStream.Namespace = m.opts.Namespace
	e := &d.Event
	e.Kind = "event"
	e.Module = "endpoint"
	e.Code = eventCode(rec.EventID)
	// One clock reading: the document goes to the output as soon as it is
	// mapped, so the time it was read is the time it was handed over.
	e.Created = m.opts.Now().UTC()
	e.Ingested = e.Created
	e.Provider = rec.Provider
	// host.name is the lower-cased Computer; the event id hashes the same.
	hn := m.hostOf(rec.Computer)
	e.ID = m.eventID(rec, hn.name)
	e.Outcome = "success"
	if rec.RecordID != 0 {
		e.Sequence = document.LongOf(int64(rec.RecordID))
	}
	switch kind {
	case Start, End:
		d.DataStream.Dataset = ProcessDataset
		e.Category = categoryProcess
		e.Action = kind.String()
		e.Type = typeStart
		if kind == End {
			e.Type = typeEnd
		}
	case Access:
		d.DataStream.Dataset = APIDataset
		e.Category = categoryAPI
		e.Type = typeAccess
		e.Action = "OpenProcess"
	}
	e.Dataset = d.DataStream.Dataset
	m.host(hn, &d.Host)
	m.scratch = appendMessage(m.scratch[:0], kind, d)
	d.Message = m.arena.string(m.scratch)
}

// eventCode is strconv.Itoa(int(id)), without allocating for the events
// mapped.
func eventCode(id uint16) string {
	switch id {
	case 1:
		return "1"
	case 5:
		return "5"
	case 10:
		return "10"
	case 4688:
		return "4688"
	case 4689:
		return "4689"
	}
	return strconv.Itoa(int(id))
}

// hostNames is what a record's Computer gives its document: host.name
// (the lower-cased Computer), host.hostname (its first label, as the
// Computer spells it: what the hostname command returns, as ECS defines
// the field) and host.id.
type hostNames struct {
	computer, name, short, id string
	set                       bool
}

// hostOf is the names and host.id of computer, worked out once per run of
// records of one host (host.id is a function of the lower-cased name,
// and of its first label: the configured ids are by those).
func (m *Mapper) hostOf(computer string) *hostNames {
	if l := &m.lastHost; !l.set || computer != l.computer {
		l.computer, l.name, l.set = computer, strings.ToLower(computer), true
		l.short, _, _ = strings.Cut(computer, ".")
		lowShort, _, _ := strings.Cut(l.name, ".")
		l.id = m.hostIDs.id(l.name, lowShort)
	}
	return &m.lastHost
}

// Shared read-only slices: documents only ever read them.
var (
	categoryProcess = []string{"process"}
	// An access is an API call as Defend files it, and a process access
	// as Sysmon's ECS mapping files it: Elastic's process-access rules
	// ("process where ... event.code == \"10\"", KQL event.category:process)
	// need the second, queries of Defend's API events the first.
	categoryAPI = []string{"api", "process"}
	typeStart   = []string{"start"}
	typeEnd     = []string{"end"}
	typeAccess  = []string{"access"}
)

func (m *Mapper) host(hn *hostNames, h *document.Host) {
	h.Name, h.Hostname, h.ID = hn.name, hn.short, hn.id
	meta := &m.opts.Host
	if m.opts.HostMeta != nil {
		if meta = m.opts.HostMeta(hn.name); meta == nil {
			meta = &Host{}
		}
	}
	h.Architecture = meta.Architecture
	h.IP = meta.IP
	h.MAC = meta.MAC
	h.OS.Type = "windows"
	h.OS.Family = "windows"
	h.OS.Platform = "windows"
	h.OS.Name = "Windows"
	h.OS.Version = meta.OSVersion
	h.OS.Full = meta.OSFull
	h.OS.Kernel = meta.OSKernel
	h.OS.Ext.Variant = meta.OSVariant
}

// eventID is a deterministic id for the record: 128 bits of xxhash over what
// identifies a Windows event (host, channel, provider, event id, the
// event's own System/EventRecordID and the second it was logged; the time
// guards against record ids that restart after a log is cleared). Every
// format carries these the same way: .evtx, rendered XML and Winlogbeat
// JSON (whose @timestamp keeps only milliseconds, hence whole seconds).
// Records without a record id (some JSON exports) are identified by their
// full-precision time and their data instead, so that two distinct
// records with equal data a millisecond apart keep two ids. It also serves
// as the document's _id, so a replayed record is never indexed twice.
func (m *Mapper) eventID(rec *winevent.Record, hostName string) string {
	// The second half hashes the same bytes after 0x9e: b holds both.
	b := append(m.hashBuf[:0], 0x9e)
	b = append(b, hostName...)
	b = append(b, 0)
	b = append(b, rec.Channel...)
	b = append(b, 0)
	b = append(b, rec.Provider...)
	b = binary.LittleEndian.AppendUint16(b, rec.EventID)
	b = binary.LittleEndian.AppendUint64(b, rec.RecordID)
	if rec.RecordID != 0 {
		b = binary.LittleEndian.AppendUint64(b, uint64(rec.TimeCreated.Unix()))
	} else {
		b = binary.LittleEndian.AppendUint64(b, uint64(rec.TimeCreated.UnixNano()))
		for _, kv := range rec.Data {
			b = append(b, kv.Name...)
			b = append(b, 0)
			b = append(b, kv.Value...)
			b = append(b, 0)
		}
	}
	m.hashBuf = b
	var sum [16]byte
	binary.BigEndian.PutUint64(sum[:8], xxhash.Sum64(b[1:]))
	binary.BigEndian.PutUint64(sum[8:], xxhash.Sum64(b))
	var id [22]byte // base64.RawURLEncoding.EncodedLen(16)
	base64.RawURLEncoding.Encode(id[:], sum[:])
	return m.arena.id(id[:])
}

// sysmonTime is the event's UtcTime, or the record's time without it.
func sysmonTime(f fields) (time.Time, error) {
	v := f.id(fUtcTime)
	if v == "" {
		return f.rec.TimeCreated, nil
	}
	t, err := winfmt.ParseSysmonTime(v)
	if err != nil {
		return time.Time{}, &FieldError{Field: "UtcTime", Value: v, Err: err}
	}
	return t, nil
}

func (m *Mapper) sysmonStart(rec *winevent.Record, d *document.Document) error {
	f := m.fieldsOf(rec)
	host := rec.Computer
	ts, err := sysmonTime(f)
	if err != nil {
		return err
	}
	pid, err := f.pid(fProcessID, false)
	if err != nil {
		return err
	}
	ppid, hasPPID, err := f.optionalPID(fParentProcessID, false)
	if err != nil {
		return err
	}
	id, err := f.guid(fProcessGUID)
	if err != nil {
		return err
	}
	parentID, err := f.guid(fParentProcessGUID)
	if err != nil {
		return err
	}
	// A malformed hash is left out, not the process: the document keeps
	// its place in the process tree (its children name it as parent) and
	// every other value, and the error says what is missing.
	hs, omitted := m.hashesOf(f.get(fHashes))
	e := tracker.Entry{
		EntityID:         id,
		PID:              pid,
		ParentEntityID:   parentID,
		ParentPID:        ppid,
		ParentExecutable: f.get(fParentImage),
		Executable:       f.get(fImage),
		CommandLine:      f.get(fCommandLine),
		// Lower-cased, as documents and saved states get them: the
		// documents of its end need not lower-case them again. (They
		// are the cache's, or allocations of their own: never the
		// arena's.)
		Hashes:           *hs,
		AuthenticationID: strings.ToLower(f.id(fLogonID)),
		WorkingDirectory: f.get(fCurrentDirectory),
		Start:            ts,
		PE: tracker.PE{
			OriginalFileName: f.get(fOriginalFileName),
			FileVersion:      f.get(fFileVersion),
			Description:      f.get(fDescription),
			Product:          f.get(fProduct),
			Company:          f.get(fCompany),
		},
		Token: tracker.Token{IntegrityLevelName: winfmt.IntegrityFromSysmon(f.get(fIntegrityLevel))},
	}
	e.Name = baseName(e.Executable)
	m.setArgs(&e)
	if s := f.id(fTerminalSessionID); s != "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return &FieldError{Field: "TerminalSessionId", Value: s, Err: err}
		}
		e.SessionID, e.HasSessionID = uint32(n), true
	}
	e.User.Domain, e.User.Name = winfmt.SplitUser(f.get(fUser))
	e.User.ID = m.sidFor(host, e.User.Domain, e.User.Name, e.AuthenticationID)
	// e becomes the entry stored; its parent is found at once.
	var parent tracker.Entry
	known := m.tr.StartParent(host, &e, &parent)
	stored := &e
	d.Timestamp = ts
	m.fillProcess(&d.Process, stored, hs)
	fillUser(&d.User, stored.User)
	d.Winlog.EventData.IntegrityLevel = f.get(fIntegrityLevel)

	// The parent as the event describes it, completed from the tracker.
	p := &d.Process.Parent
	p.EntityID = stored.ParentEntityID
	if hasPPID {
		p.PID = document.LongOf(int64(ppid))
	}
	p.Executable = stored.ParentExecutable
	p.CommandLine = f.get(fParentCommandLine)
	if known {
		m.fillParentFromEntry(p, &parent)
	}
	if p.Name == "" {
		p.Name = baseName(p.Executable)
	}
	if p.CommandLine != "" && len(p.Args) == 0 {
		p.Args = m.splitArgs(p.CommandLine)
		p.ArgsCount = document.LongOf(int64(len(p.Args)))
	}
	return omitted
}

func (m *Mapper) securityStart(rec *winevent.Record, d *document.Document) error {
	f := m.fieldsOf(rec)
	host := rec.Computer
	pid, err := f.pid(fNewProcessID, true)
	if err != nil {
		return err
	}
	ppid, hasPPID, err := f.optionalPID(fProcessID, true)
	if err != nil {
		return err
	}
	m.learn(host, f, subject)
	m.learn(host, f, target)
	e := tracker.Entry{
		PID:              pid,
		ParentPID:        ppid,
		ParentExecutable: m.image(f.get(fParentProcessName)),
		Executable:       m.image(f.get(fNewProcessName)),
		CommandLine:      f.get(fCommandLine),
		Start:            rec.TimeCreated,
		Token: tracker.Token{
			ElevationLevel:     winfmt.ElevationLevel(f.get(fTokenElevationType)),
			IntegrityLevelName: winfmt.IntegrityFromLabel(f.get(fMandatoryLabel)),
		},
	}
	e.Name = baseName(e.Executable)
	m.setArgs(&e)
	// The new process runs as the target account when 4688 names one
	// (version 2); S-1-0-0 there means "same as the subject".
	who := subject
	if sid := f.id(fTargetUserSid); sid != "" && sid != "S-1-0-0" {
		who = target
	}
	e.User = tracker.User{Domain: f.get(who.domain), Name: f.get(who.user), ID: f.id(who.sid)}
	m.serviceAccount(&e.User)
	e.AuthenticationID = strings.ToLower(f.id(who.logon))
	var parent tracker.Entry
	known := m.tr.StartParent(host, &e, &parent)
	stored := &e
	d.Timestamp = rec.TimeCreated
	m.fillProcess(&d.Process, stored, nil)
	fillUser(&d.User, stored.User)
	d.Winlog.EventData.SubjectUserName = f.get(fSubjectUserName)

	p := &d.Process.Parent
	p.EntityID = stored.ParentEntityID
	if hasPPID {
		p.PID = document.LongOf(int64(ppid))
	}
	p.Executable = stored.ParentExecutable
	if known {
		m.fillParentFromEntry(p, &parent)
	}
	if p.Name == "" {
		p.Name = baseName(p.Executable)
	}
	return nil
}

// sidFor is the SID of an account (tracker.SIDFor). Whether an account
// is well-known, and its SID then, depends on its names alone, and records
// name the same few accounts again and again (Sysmon's are mostly SYSTEM
// and the service accounts): the answer for the last names is kept.
func (m *Mapper) sidFor(host, domain, name, logonID string) string {
	if sid, ok := m.wellKnownSID(domain, name); ok {
		return sid
	}
	sid, _ := m.tr.SessionSID(host, domain, name, logonID)
	return sid
}

// wellKnownSID is tracker.WellKnownSID of the names as logged, the
// answer for the last names kept.
func (m *Mapper) wellKnownSID(domain, name string) (string, bool) {
	w := &m.wellKnown
	if !w.set || domain != w.domain || name != w.name {
		w.sid, w.known = tracker.WellKnownSID(winfmt.TrimSpace(domain), winfmt.TrimSpace(name))
		w.domain, w.name, w.set = domain, name, true
	}
	return w.sid, w.known
}

// serviceAccount names u, an account a Security event gives, after its
// SID when that is SYSTEM's, LOCAL SERVICE's or NETWORK SERVICE's
// (tracker.WellKnownAccount): 4688 and 4689 give the strings of the
// logon session, which for SYSTEM's are the machine account (HOST$,
// WORKGROUP or the domain), while Sysmon's records of the same process
// and Defend name the token's account, NT AUTHORITY\SYSTEM. Names that
// are already this SID's account, in whatever language the event's
// Windows speaks (AUTORITE NT\Système), are kept as logged.
func (m *Mapper) serviceAccount(u *tracker.User) {
	domain, name, ok := tracker.WellKnownAccount(u.ID)
	if !ok {
		return
	}
	if sid, known := m.wellKnownSID(u.Domain, u.Name); known && sid == u.ID {
		return
	}
	u.Domain, u.Name = domain, name
}

// learn records what a Security event says about an account's SID.
func (m *Mapper) learn(host string, f fields, who account) {
	m.tr.Learn(host, f.get(who.domain), f.get(who.user), f.id(who.logon), f.id(who.sid))
}

func (m *Mapper) sysmonEnd(rec *winevent.Record, d *document.Document) error {
	f := m.fieldsOf(rec)
	host := rec.Computer
	ts, err := sysmonTime(f)
	if err != nil {
		return err
	}
	pid, err := f.pid(fProcessID, false)
	if err != nil {
		return err
	}
	id, err := f.guid(fProcessGUID)
	if err != nil {
		return err
	}
	var started tracker.Entry
	var known bool
	if id != "" {
		started, known = m.tr.End(host, id, ts)
	} else {
		started, known = m.tr.EndPID(host, pid, ts)
	}
	if known && !sameProcess(&started, pid, ts) {
		// The id names another process (Sysmon ids repeat across restored
		// snapshots of one machine): its start details are not this one's.
		known = false
	}
	if !known {
		started = tracker.Entry{EntityID: id, PID: pid}
	}
	// What the start event recorded wins: Sysmon may no longer know the
	// image of an ending process ("<unknown process>", absent here).
	if img := f.get(fImage); img != "" && started.Executable == "" {
		started.Executable = img
		started.Name = baseName(img)
	}
	if u := f.get(fUser); u != "" && started.User.Name == "" {
		started.User.Domain, started.User.Name = winfmt.SplitUser(u)
		started.User.ID = m.sidFor(host, started.User.Domain, started.User.Name, started.AuthenticationID)
	}
	d.Timestamp = ts
	m.fillEnd(host, d, &started)
	return nil
}

func (m *Mapper) securityEnd(rec *winevent.Record, d *document.Document) error {
	f := m.fieldsOf(rec)
	host := rec.Computer
	pid, err := f.pid(fProcessID, true)
	if err != nil {
		return err
	}
	m.learn(host, f, subject)
	started, known := m.tr.EndPID(host, pid, rec.TimeCreated)
	if !known {
		started = tracker.Entry{PID: pid}
		started.User = tracker.User{Domain: f.get(fSubjectDomainName), Name: f.get(fSubjectUserName), ID: f.id(fSubjectUserSid)}
		m.serviceAccount(&started.User)
		started.AuthenticationID = strings.ToLower(f.id(fSubjectLogonID))
	}
	if img := m.image(f.get(fProcessName)); img != "" && started.Executable == "" {
		started.Executable = img
		started.Name = baseName(img)
	}
	if s := f.id(fStatus); s != "" {
		code, err := winfmt.ParseExitStatus(s)
		if err != nil {
			return &FieldError{Field: "Status", Value: s, Err: err}
		}
		d.Process.ExitCode = document.LongOf(code)
	}
	d.Timestamp = rec.TimeCreated
	m.fillEnd(host, d, &started)
	return nil
}

// fillEnd writes an end event from what its start event recorded.
func (m *Mapper) fillEnd(host string, d *document.Document, e *tracker.Entry) {
	m.fillProcess(&d.Process, e, nil)
	fillUser(&d.User, e.User)
	p := &d.Process.Parent
	p.EntityID = e.ParentEntityID
	if e.ParentPID != 0 || e.ParentEntityID != "" {
		p.PID = document.LongOf(int64(e.ParentPID))
	}
	p.Executable = e.ParentExecutable
	if parent, ok := m.tr.ParentOf(host, e); ok {
		m.fillParentFromEntry(p, &parent)
	}
	if p.Name == "" {
		p.Name = baseName(p.Executable)
	}
}

// sameProcess reports whether the tracked e can be the process an event
// at time at names by e's entity id with pid: same pid, started no later.
func sameProcess(e *tracker.Entry, pid uint32, at time.Time) bool {
	return e.PID == pid && (e.Start.IsZero() || at.IsZero() || !e.Start.After(at))
}

// fillProcess fills p from e; low, when not nil, is e's hashes
// lower-cased.
func (m *Mapper) fillProcess(p *document.Process, e *tracker.Entry, low *winfmt.Hashes) {
	p.EntityID = e.EntityID
	p.PID = document.LongOf(int64(e.PID))
	p.Executable = e.Executable
	p.Name = e.Name
	p.CommandLine = e.CommandLine
	p.Args = m.argsOf(e)
	if e.ArgsCount > 0 {
		p.ArgsCount = document.LongOf(int64(e.ArgsCount))
	}
	p.WorkingDirectory = e.WorkingDirectory
	if low != nil {
		p.Hash.MD5, p.Hash.SHA1, p.Hash.SHA256, p.PE.Imphash = low.MD5, low.SHA1, low.SHA256, low.IMPHASH
	} else {
		p.Hash.MD5 = m.lowerHash(e.Hashes.MD5)
		p.Hash.SHA1 = m.lowerHash(e.Hashes.SHA1)
		p.Hash.SHA256 = m.lowerHash(e.Hashes.SHA256)
		p.PE.Imphash = m.lowerHash(e.Hashes.IMPHASH)
	}
	p.PE.OriginalFileName = e.PE.OriginalFileName
	p.PE.FileVersion = e.PE.FileVersion
	p.PE.Description = e.PE.Description
	p.PE.Product = e.PE.Product
	p.PE.Company = e.PE.Company
	p.Ext.Ancestry = e.Ancestry
	p.Ext.AuthenticationID = e.AuthenticationID
	p.Ext.Token.IntegrityLevelName = e.Token.IntegrityLevelName
	p.Ext.Token.ElevationLevel = e.Token.ElevationLevel
	if e.HasSessionID {
		p.Ext.SessionInfo.ID = document.UlongOf(uint64(e.SessionID))
	}
}

// argsOf is the arguments of a tracked process: those it carries
// (setArgs, or a state saved by an earlier version), else its command
// line split.
func (m *Mapper) argsOf(e *tracker.Entry) []string {
	if len(e.Args) > 0 {
		return e.Args
	}
	return m.splitArgs(e.CommandLine)
}

// setArgs sets the argument count of a starting process, and its
// arguments when the cache keeps them: those are allocations of their
// own, never written again, which the tracker may hold as long as it
// likes, and documents that name the process later (its children's, its
// end's) then find them in its entry instead of looking its line up.
// Arguments the cache does not keep are split into the arena, which the
// tracker must not pin: those processes keep the count alone, and their
// documents split the line again. The tracker saves entries with their
// arguments either way (persisted), so a saved state is the same.
func (m *Mapper) setArgs(e *tracker.Entry) {
	args, kept := m.splitArgsKept(e.CommandLine)
	e.ArgsCount = len(args)
	if kept {
		e.Args = args
	}
}

// splitArgs is argv.Split(cmdline), shared read-only by documents. Lines
// repeat (a start's document splits the line the start split, siblings
// share their parent's, services and their parents run the same lines
// again and again: a mixed collection of 25,000 documents asks for 63,000
// splits of 1,800 lines): the cache gives the arguments of a line split
// before.
func (m *Mapper) splitArgs(cmdline string) []string {
	args, _ := m.splitArgsKept(cmdline)
	return args
}

// splitArgsKept is splitArgs, and whether the arguments are the cache's
// (else they are the arena's: see splitLong).
func (m *Mapper) splitArgsKept(cmdline string) (args []string, kept bool) {
	if cmdline == "" {
		return nil, false
	}
	if len(cmdline) > maxCachedLine {
		return m.splitLong(cmdline), false
	}
	e := m.split.entry(cmdline)
	if e.set {
		return e.val, true
	}
	// An entry's line and arguments are allocations of its own (the
	// line copied: the record's would keep all its values alive), made
	// once per line while it stays cached.
	line := strings.Clone(cmdline)
	m.args = argv.AppendSplit(m.args[:0], line)
	args = slices.Clone(m.args)
	clear(m.args)
	// Counted generously: the line, a buffer as long for quoted
	// arguments, the arguments' headers.
	if !m.split.put(e, line, args, 2*len(line)+16*len(args)) {
		return m.splitLong(cmdline), false
	}
	return args, true
}

// splitLong is splitArgs of a line the cache does not keep (too long: an
// encoded script, rarely seen twice; or past its budget), into the arena,
// remembered as the last such line.
func (m *Mapper) splitLong(cmdline string) []string {
	if l := &m.long; l.set && l.key == cmdline {
		return l.val
	}
	m.args = argv.AppendSplitAlloc(m.args[:0], cmdline, m.takeBytes)
	m.long = cacheEntry[[]string]{key: cmdline, val: m.arena.stringsOf(m.args), set: true}
	clear(m.args)
	return m.long.val
}

// The args cache's sets (each of cacheWays entries), the bytes its
// entries may hold, and the longest line it keeps (longer ones are
// encoded scripts, rarely seen twice). Its 4,096 entries hold the
// 1,800 lines of a mixed collection, in 630 kB.
const (
	argsSets      = 1024
	argsBudget    = 2 << 20
	maxCachedLine = 8 << 10
)

// lowerHash is a hash as ParseHashes gives it, lower-cased when it needs
// to be. Processes start from the same images again and again: the
// hashes lower-cased are kept, and documents share them.
func (m *Mapper) lowerHash(v string) string {
	if !winfmt.HashNeedsLower(v) {
		return v
	}
	e := m.hashes.entry(v)
	if e.set {
		return e.val
	}
	low := lowerOwn(v)
	// Copied: the record's would keep all its values alive.
	m.hashes.put(e, strings.Clone(v), low, 2*len(v))
	return low
}

// lowerOwn is lowerHash(v) uncached, in an allocation of its own.
func lowerOwn(v string) string {
	if !winfmt.HashNeedsLower(v) {
		return v
	}
	b := lower.Append(make([]byte, 0, len(v)), v) // as arena.lower
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// The hash cache's sets (each of cacheWays entries) and the bytes its
// entries may hold: it serves end events (a start's hashes come from
// hashesOf), 512 entries.
const (
	hashSets   = 128
	hashBudget = 256 << 10
)

// hashesOf is a Hashes value split (winfmt.SplitHashes) and lower-cased,
// as documents and the tracker's entries get it. Processes start from the
// same images again and again: the hashes are cached by the value, so
// that a start splits none and lower-cases none (a start's four hashes,
// each looked up in lowerHash's cache, cost more than its one value
// here). Values too long to be Sysmon's are split each time into
// m.oneHashes. A hash that is not its algorithm's hex digits is left out
// and reported, naming the field (checkHashes): the hashes returned are
// then the sound ones; only values whose hashes are all sound are cached,
// so a start found in the cache checks nothing again.
func (m *Mapper) hashesOf(raw string) (*winfmt.Hashes, error) {
	if raw != "" && len(raw) <= maxCachedHashes {
		e := m.hashValues.entry(raw)
		if e.set {
			return e.val, nil
		}
		// Copied: the record's would keep all its values alive.
		key := strings.Clone(raw)
		h := winfmt.SplitHashes(key)
		if err := checkHashes(raw, &h); err == nil {
			h = lowerHashes(h, lowerOwn)
			if m.hashValues.put(e, key, &h, 3*len(raw)+160) {
				return &h, nil
			}
		}
	}
	h := winfmt.SplitHashes(raw)
	err := checkHashes(raw, &h)
	m.oneHashes = lowerHashes(h, m.lowerHash)
	return &m.oneHashes, err
}

// The lengths in hex digits of the hashes Sysmon logs.
const (
	md5Digits     = 32
	sha1Digits    = 40
	sha256Digits  = 64
	imphashDigits = 32 // an MD5 of the import table
)

// checkHashes clears each hash of h, split from raw (a Hashes value),
// that is not as many hex digits as its algorithm gives, and reports the
// first as a FieldError: a hash is matched exactly by rules and threat
// intelligence, and "zz" in process.hash.md5 would pass for one. The
// error is Omitted: the document is made with the sound hashes, unlike a
// bad GUID or pid, without which it could not be placed in the process
// tree.
//
// A part of the value that is no ALGORITHM=hash pair ("garbage") is an
// error too: SplitHashes passes over it, and a hash meant there would be
// lost without a word. Algorithms other than the four are let pass, as
// SplitHashes drops them.
func checkHashes(raw string, h *winfmt.Hashes) error {
	if hashOK(h.MD5, md5Digits) && hashOK(h.SHA1, sha1Digits) && hashOK(h.SHA256, sha256Digits) && hashOK(h.IMPHASH, imphashDigits) {
		for rest := raw; rest != ""; {
			part, after, _ := strings.Cut(rest, ",")
			if !strings.Contains(part, "=") && winfmt.TrimSpace(part) != "" {
				return &FieldError{Field: fieldNames[fHashes], Value: raw, Err: fmt.Errorf("%q is no ALGORITHM=hash pair", part), Omitted: true}
			}
			rest = after
		}
		return nil
	}
	var err error
	for _, c := range [...]struct {
		alg string
		v   *string
		n   int
	}{{"MD5", &h.MD5, md5Digits}, {"SHA1", &h.SHA1, sha1Digits}, {"SHA256", &h.SHA256, sha256Digits}, {"IMPHASH", &h.IMPHASH, imphashDigits}} {
		if !hashOK(*c.v, c.n) {
			if err == nil {
				err = &FieldError{Field: fieldNames[fHashes], Value: raw, Err: fmt.Errorf("%s %q is not %d hex digits", c.alg, *c.v, c.n), Omitted: true}
			}
			*c.v = ""
		}
	}
	return err
}

// hashOK reports whether v, a hash SplitHashes gave, is absent ("") or n
// hex digits.
func hashOK(v string, n int) bool {
	return v == "" || (len(v) == n && isHex(v))
}

// lowerHashes is h with each hash lower-cased by lower.
func lowerHashes(h winfmt.Hashes, lower func(string) string) winfmt.Hashes {
	return winfmt.Hashes{MD5: lower(h.MD5), SHA1: lower(h.SHA1), SHA256: lower(h.SHA256), IMPHASH: lower(h.IMPHASH)}
}

// The Hashes cache's sets (each of cacheWays entries), the bytes its
// entries may hold, and the longest value it keeps (Sysmon's four hashes
// take 200 bytes). A mixed collection starts 300 distinct images.
const (
	hashValueSets   = 256
	hashValueBudget = 1 << 20
	maxCachedHashes = 512
)

// fillParentFromEntry completes process.parent from the parent's own start
// event, keeping what the child's event said.
func (m *Mapper) fillParentFromEntry(p *document.ProcessParent, e *tracker.Entry) {
	if p.EntityID == "" {
		p.EntityID = e.EntityID
	}
	if !p.PID.Valid {
		p.PID = document.LongOf(int64(e.PID))
	}
	if p.Executable == "" {
		p.Executable = e.Executable
	}
	if p.Name == "" {
		p.Name = e.Name
	}
	if p.CommandLine == "" {
		p.CommandLine = e.CommandLine
	}
	// The arguments are the split of the document's command line: the
	// parent's own when the child's event gave none or the same (most
	// often), else the child's event's, which the caller splits (a
	// parent's line as its start logged it and as its child's event
	// gives it may differ: cmd.exe's %%i against %i).
	if len(p.Args) == 0 && e.ArgsCount > 0 && p.CommandLine == e.CommandLine {
		p.Args = m.argsOf(e)
		p.ArgsCount = document.LongOf(int64(e.ArgsCount))
	}
}

// lookup is the tracked process of entity id id; an event without one
// (no GUID) names no tracked process, and costs no lookup.
func (m *Mapper) lookup(host, id string) (tracker.Entry, bool) {
	if id == "" {
		return tracker.Entry{}, false
	}
	return m.tr.Lookup(host, id)
}

func fillUser(u *document.User, e tracker.User) {
	u.Domain, u.Name, u.ID = e.Domain, e.Name, e.ID
}

func (m *Mapper) sysmonAccess(rec *winevent.Record, d *document.Document) error {
	f := m.fieldsOf(rec)
	host := rec.Computer
	ts, err := sysmonTime(f)
	if err != nil {
		return err
	}
	d.Timestamp = ts
	pid, err := f.pid(fSourceProcessID, false)
	if err != nil {
		return err
	}
	p := &d.Process
	p.PID = document.LongOf(int64(pid))
	if p.EntityID, err = f.guid(fSourceProcessGUID); err != nil {
		return err
	}
	p.Executable = f.get(fSourceImage)
	p.Name = baseName(p.Executable)
	if tid, ok, err := f.optionalPID(fSourceThreadID, false); err != nil {
		return err
	} else if ok {
		p.Thread.ID = document.LongOf(int64(tid))
	}
	var logon string
	if src, ok := m.lookup(host, p.EntityID); ok && sameProcess(&src, pid, ts) {
		// The event's own image is kept, as Sysmon logged it (a mapped
		// drive's Z:\ where the start named \\server\share, another
		// case): searches for what the event said find it. The start
		// event's fills a placeholder.
		if p.Executable == "" {
			p.Executable, p.Name = src.Executable, src.Name
		}
		fillUser(&d.User, src.User)
		logon = src.AuthenticationID
	}
	if su := f.get(fSourceUser); su != "" {
		d.User.Domain, d.User.Name = winfmt.SplitUser(su)
		d.User.ID = m.sidFor(host, d.User.Domain, d.User.Name, logon)
	}

	t := &d.Target.Process
	if t.EntityID, err = f.guid(fTargetProcessGUID); err != nil {
		return err
	}
	t.Executable = f.get(fTargetImage)
	tpid, hasTPID, err := f.optionalPID(fTargetProcessID, false)
	if err != nil {
		return err
	}
	if hasTPID {
		t.PID = document.LongOf(int64(tpid))
	}
	if t.Executable == "" {
		// As the source's: the tracked image fills a placeholder only.
		if tp, ok := m.lookup(host, t.EntityID); ok && (!hasTPID || sameProcess(&tp, tpid, ts)) {
			t.Executable = tp.Executable
		}
	}
	t.Name = baseName(t.Executable)

	api := &p.Ext.API
	api.Name = "OpenProcess"
	granted := f.get(fGrantedAccess)
	if granted != "" {
		mask, err := parseAccessMask(granted)
		if err != nil {
			return &FieldError{Field: "GrantedAccess", Value: granted, Err: err}
		}
		api.Parameters.DesiredAccessNumeric = document.LongOf(int64(mask))
		var names [len(processRights) + 2]string
		api.Parameters.DesiredAccess = m.arena.stringsOf(accessNames(names[:0], uint32(mask)))
		b := append(m.scratch[:0], "OpenProcess( "...)
		b = append(b, t.Name...)
		b = append(b, ", "...)
		for i, name := range api.Parameters.DesiredAccess {
			if i > 0 {
				b = append(b, '|')
			}
			b = append(b, name...)
		}
		b = append(b, " )"...)
		m.scratch = b
		api.Summary = m.arena.string(b)
	}
	trace := f.get(fCallTrace)
	if trace != "" {
		m.callStack(trace, &p.Thread.Ext)
	}
	w := &d.Winlog.EventData
	w.TargetImage = f.get(fTargetImage)
	w.TargetProcessGUID = f.get(fTargetProcessGUID)
	w.TargetProcessId = f.get(fTargetProcessID)
	w.GrantedAccess = granted
	w.CallTrace = trace
	w.SourceUser = f.get(fSourceUser)
	w.TargetUser = f.get(fTargetUser)
	return nil
}

// appendMessage appends the one line that says what happened.
func appendMessage(b []byte, kind Kind, d *document.Document) []byte {
	p := &d.Process
	switch kind {
	case Start:
		b = append(b, "Process started: "...)
	case End:
		b = append(b, "Process ended: "...)
	case Access:
		b = append(b, "Process accessed: "...)
	}
	b = append(b, orUnknown(p.Executable)...)
	b = append(b, " (pid "...)
	b = strconv.AppendInt(b, p.PID.Value, 10)
	b = append(b, ')')
	switch kind {
	case Start:
		if p.Parent.Name != "" {
			b = append(b, ", parent "...)
			b = append(b, p.Parent.Name...)
		}
	case End:
		if p.ExitCode.Valid {
			b = append(b, ", exit code "...)
			b = strconv.AppendInt(b, p.ExitCode.Value, 10)
		}
	case Access:
		b = append(b, " opened "...)
		b = append(b, orUnknown(d.Target.Process.Executable)...)
		if d.Winlog.EventData.GrantedAccess != "" {
			b = append(b, " with access "...)
			b = append(b, d.Winlog.EventData.GrantedAccess...)
		}
	}
	if d.User.Name != "" {
		b = append(b, ", user "...)
		if d.User.Domain != "" {
			b = append(b, d.User.Domain...)
			b = append(b, '\\')
		}
		b = append(b, d.User.Name...)
	}
	return b
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown image"
	}
	return s
}

// Message is the one-line message of a document of kind k, for documents
// completed after mapping (module/process/merge).
func Message(k Kind, d *document.Document) string { return string(appendMessage(nil, k, d)) }

// RecordImage is the image a process start or end record names itself,
// as its document's process.executable would: Sysmon's Image, Security's
// NewProcessName (4688) or ProcessName (4689), a network share's named
// by UNC path (image); "" when absent or for other records. Like Map, it
// is not safe for concurrent use.
func (m *Mapper) RecordImage(rec *winevent.Record) string {
	var name string
	security := false
	switch rec.EventID {
	case 1, 5:
		name = "Image"
	case 4688:
		name, security = "NewProcessName", true
	case 4689:
		name, security = "ProcessName", true
	default:
		return ""
	}
	// One value: a search costs less than a layout.
	v, _ := rec.Get(name)
	if security {
		return m.image(winfmt.Present(v))
	}
	return winfmt.Present(v)
}

// image is an image path as a Security event gives it, as Sysmon and
// Defend write it: a network share's NT device path
// (\Device\Mup\server\share\...) becomes its UNC path
// (\\server\share\...), so that one process's Sysmon and Security
// records, and the tracker's entries of both, name one image. A volume's
// device path (\Device\HarddiskVolume3\...) stays: which drive letter
// the volume had is not in the logs. Processes run from a share again and
// again: the paths made are kept, allocations of their own (the tracker
// keeps them in its entries), so that documents cost none.
func (m *Mapper) image(p string) string {
	share, ok := winfmt.MupShare(p)
	if !ok {
		return p
	}
	e := m.uncs.entry(p)
	if e.set {
		return e.val
	}
	unc := `\\` + share
	// Copied: the record's would keep all its values alive.
	m.uncs.put(e, strings.Clone(p), unc, 2*len(p)+len(unc))
	return unc
}

// The UNC path cache's sets (each of cacheWays entries) and the bytes its
// entries may hold: the images a collection runs from shares are few.
const (
	uncSets   = 16
	uncBudget = 64 << 10
)
