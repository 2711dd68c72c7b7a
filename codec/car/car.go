// Package car renders procbeat documents in MITRE CAR's process data model:
// one object per event with CAR's action (create, terminate, access) and
// CAR's field names, for analytics written against CAR.
package car

import (
	"strconv"

	"github.com/procbeat/procbeat/fields/document"
)

// Fields are CAR's process fields in the order Append writes them; the
// coverage report counts them.
var Fields = []string{
	"pid", "ppid", "guid", "parent_guid", "image_path", "exe", "command_line",
	"parent_image_path", "parent_exe", "parent_command_line", "current_working_directory",
	"user", "sid", "integrity_level", "md5_hash", "sha1_hash", "sha256_hash",
	"fqdn", "hostname", "access_level", "call_trace", "target_guid", "target_pid", "target_name",
}

// Action returns CAR's action for a document: create, terminate or access.
func Action(d *document.Document) string {
	switch {
	case d.Event.Action == "start":
		return "create"
	case d.Event.Action == "end":
		return "terminate"
	case d.Event.Code == "10":
		return "access"
	}
	return ""
}

// Append writes d as one CAR JSON object.
func Append(b []byte, d *document.Document) []byte {
	w := writer{b: append(b, '{')}
	w.str("object", "process")
	w.str("action", Action(d))
	if !d.Timestamp.IsZero() {
		w.key("timestamp")
		w.b = document.AppendTime(w.b, d.Timestamp)
	}
	p := &d.Process
	w.long("pid", p.PID)
	w.long("ppid", p.Parent.PID)
	w.str("guid", p.EntityID)
	w.str("parent_guid", p.Parent.EntityID)
	w.str("image_path", p.Executable)
	w.str("exe", p.Name)
	w.str("command_line", p.CommandLine)
	w.str("parent_image_path", p.Parent.Executable)
	w.str("parent_exe", p.Parent.Name)
	w.str("parent_command_line", p.Parent.CommandLine)
	w.str("current_working_directory", p.WorkingDirectory)
	if d.User.Name != "" {
		user := d.User.Name
		if d.User.Domain != "" {
			user = d.User.Domain + `\` + user
		}
		w.str("user", user)
	}
	w.str("sid", d.User.ID)
	w.str("integrity_level", p.Ext.Token.IntegrityLevelName)
	w.str("md5_hash", p.Hash.MD5)
	w.str("sha1_hash", p.Hash.SHA1)
	w.str("sha256_hash", p.Hash.SHA256)
	w.str("fqdn", d.Host.Name)
	w.str("hostname", d.Host.Hostname)
	w.str("access_level", d.Winlog.EventData.GrantedAccess)
	w.str("call_trace", d.Winlog.EventData.CallTrace)
	w.str("target_guid", d.Target.Process.EntityID)
	w.long("target_pid", d.Target.Process.PID)
	w.str("target_name", d.Target.Process.Executable)
	return append(w.b, '}')
}

type writer struct {
	b []byte
	n int
}

func (w *writer) key(k string) {
	if w.n > 0 {
		w.b = append(w.b, ',')
	}
	w.n++
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *writer) str(k, v string) {
	if v == "" {
		return
	}
	w.key(k)
	w.b = document.AppendString(w.b, v)
}

func (w *writer) long(k string, v document.Long) {
	if !v.Valid {
		return
	}
	w.key(k)
	w.b = strconv.AppendInt(w.b, v.Value, 10)
}
