package kql

import (
	"encoding/json"
	"reflect"
	"testing"
)

// testFields is a small slice of procbeat's field catalog with one field of
// every mapping type the catalog uses.
var testFields = MapFields{
	"@timestamp":                 "date",
	"data_stream.dataset":        "constant_keyword",
	"event.action":               "keyword",
	"event.category":             "keyword",
	"event.dataset":              "keyword",
	"event.module":               "keyword",
	"host.ip":                    "ip",
	"host.name":                  "keyword",
	"host.os.type":               "keyword",
	"message":                    "match_only_text",
	"process.command_line":       "wildcard",
	"process.Ext.code_signature": "nested",
	"process.Ext.code_signature.subject_name": "keyword",
	"process.Ext.code_signature.trusted":      "boolean",
	"process.Ext.relative_file_creation_time": "double",
	"process.Ext.session_info.id":             "unsigned_long",
	"process.Ext.token":                       "object",
	"process.Ext.token.integrity_level_name":  "keyword",
	"process.name":                            "keyword",
	"process.name.caseless":                   "keyword",
	"process.name.text":                       "text",
	"process.pid":                             "long",
	"user.name":                               "keyword",
}

const seedQuery = `event.dataset : "endpoint.events.process" and event.module : "endpoint" and host.os.type : "windows" and event.action : "start" or "end"`

const seedFixed = `event.dataset : "endpoint.events.process" and event.module : "endpoint" and host.os.type : "windows" and event.action : ("start" or "end")`

// sameJSON compares two JSON texts as values (member order aside).
func sameJSON(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v\n%s", err, want)
	}
	return reflect.DeepEqual(g, w)
}

func mustParse(t testing.TB, q string) Node {
	t.Helper()
	n, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	return n
}
