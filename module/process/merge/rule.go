package merge

import (
	"github.com/procbeat/procbeat/fields/document"
	"github.com/procbeat/procbeat/module/process/mapping"
)

// Fuse writes into sys, the Sysmon document of a process event, what its
// Security twin sec adds. The rule, for start (Sysmon 1 + 4688) and end
// (Sysmon 5 + 4689) documents alike:
//
//   - Security wins for what it reads from the process token and Sysmon
//     does not log or only derives: process.Ext.token.elevation_level,
//     user.id (the token's SID; Sysmon's is looked up by account name),
//     process.Ext.authentication_id (the token's logon id), and
//     process.exit_code (Sysmon 5 has none); each only when the Security
//     event supplies it.
//   - Sysmon wins for everything else (the GUID as entity_id, the parent
//     GUID and ancestry, hashes, PE facts, working directory, integrity
//     level, image, command line, user name, @timestamp from its UtcTime),
//     and a value Sysmon leaves empty is taken from Security.
//   - The document keeps the Sysmon record's event.id, which is also its
//     _id: whichever record arrived first, the merged document has one id,
//     and it is the id a Sysmon document alone would have had.
//
// Slices are shared, not copied: documents only ever read them.
func Fuse(kind mapping.Kind, sys, sec *document.Document) {
	p, q := &sys.Process, &sec.Process
	if q.Ext.Token.ElevationLevel != "" {
		p.Ext.Token.ElevationLevel = q.Ext.Token.ElevationLevel
	}
	if sec.User.ID != "" {
		sys.User.ID = sec.User.ID
	}
	if q.Ext.AuthenticationID != "" {
		p.Ext.AuthenticationID = q.Ext.AuthenticationID
	}
	if q.ExitCode.Valid {
		p.ExitCode = q.ExitCode
	}

	fill(&p.EntityID, q.EntityID)
	fill(&p.Executable, q.Executable)
	fill(&p.Name, q.Name)
	if p.CommandLine == "" && q.CommandLine != "" {
		p.CommandLine, p.Args, p.ArgsCount = q.CommandLine, q.Args, q.ArgsCount
	}
	fill(&p.WorkingDirectory, q.WorkingDirectory)
	fill(&p.Hash.MD5, q.Hash.MD5)
	fill(&p.Hash.SHA1, q.Hash.SHA1)
	fill(&p.Hash.SHA256, q.Hash.SHA256)
	fill(&p.PE.Imphash, q.PE.Imphash)
	fill(&p.PE.OriginalFileName, q.PE.OriginalFileName)
	fill(&p.PE.Company, q.PE.Company)
	fill(&p.PE.Description, q.PE.Description)
	fill(&p.PE.FileVersion, q.PE.FileVersion)
	fill(&p.PE.Product, q.PE.Product)
	if !p.CodeSignature.Exists.Valid {
		p.CodeSignature = q.CodeSignature
	}
	if len(p.Ext.CodeSignature) == 0 {
		p.Ext.CodeSignature = q.Ext.CodeSignature
	}
	fill(&p.Ext.Token.IntegrityLevelName, q.Ext.Token.IntegrityLevelName)
	if !p.Ext.SessionInfo.ID.Valid {
		p.Ext.SessionInfo.ID = q.Ext.SessionInfo.ID
	}
	if len(p.Ext.Ancestry) == 0 {
		p.Ext.Ancestry = q.Ext.Ancestry
	}
	if !p.PID.Valid {
		p.PID = q.PID
	}

	pp, qp := &p.Parent, &q.Parent
	fill(&pp.EntityID, qp.EntityID)
	if !pp.PID.Valid {
		pp.PID = qp.PID
	}
	fill(&pp.Executable, qp.Executable)
	fill(&pp.Name, qp.Name)
	if pp.CommandLine == "" && qp.CommandLine != "" {
		pp.CommandLine, pp.Args, pp.ArgsCount = qp.CommandLine, qp.Args, qp.ArgsCount
	}
	if !pp.CodeSignature.Exists.Valid {
		pp.CodeSignature = qp.CodeSignature
	}

	fill(&sys.User.Name, sec.User.Name)
	fill(&sys.User.Domain, sec.User.Domain)
	fill(&sys.Winlog.EventData.SubjectUserName, sec.Winlog.EventData.SubjectUserName)
	fill(&sys.Winlog.EventData.IntegrityLevel, sec.Winlog.EventData.IntegrityLevel)
	if sys.Timestamp.IsZero() {
		sys.Timestamp = sec.Timestamp
	}
	sys.Message = mapping.Message(kind, sys)
}

// Link points sec, a Security document whose Sysmon twin is sys, at the
// Sysmon process identity (entity_id, parent entity_id, ancestry), so that
// with both documents kept the process tree stays whole.
func Link(sys, sec *document.Document) {
	if id := sys.Process.EntityID; id != "" {
		sec.Process.EntityID = id
	}
	if id := sys.Process.Parent.EntityID; id != "" {
		sec.Process.Parent.EntityID = id
	}
	if len(sys.Process.Ext.Ancestry) > 0 {
		sec.Process.Ext.Ancestry = sys.Process.Ext.Ancestry
	}
}

func fill(dst *string, src string) {
	if *dst == "" {
		*dst = src
	}
}
