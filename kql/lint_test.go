package kql

import (
	"fmt"
	"strings"
	"testing"
)

func TestLintSeed(t *testing.T) {
	ws, err := Lint(seedQuery, testFields)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 {
		t.Fatalf("want 2 warnings, got %d: %v", len(ws), ws)
	}
	orAt := strings.Index(seedQuery, ` or "end"`) + 1
	endAt := strings.Index(seedQuery, `"end"`)
	want := []struct {
		kind string
		off  int
	}{{KindPrecedence, orAt}, {KindBareValue, endAt}}
	for i, w := range ws {
		if w.Kind != want[i].kind || w.Offset != want[i].off {
			t.Errorf("warning %d: got %s at %d, want %s at %d", i, w.Kind, w.Offset, want[i].kind, want[i].off)
		}
		if w.Rewrite != seedFixed {
			t.Errorf("warning %d rewrite:\n got: %s\nwant: %s", i, w.Rewrite, seedFixed)
		}
		if w.Line != 1 || w.Col != w.Offset+1 {
			t.Errorf("warning %d: line %d col %d", i, w.Line, w.Col)
		}
	}
	if !strings.Contains(ws[0].Message, `(event.dataset : "endpoint.events.process" and event.module : "endpoint" and host.os.type : "windows" and event.action : "start") or "end"`) {
		t.Errorf("precedence message does not show the reading: %s", ws[0].Message)
	}
	if !strings.Contains(ws[1].Message, "every field") {
		t.Errorf("bare-value message: %s", ws[1].Message)
	}
	s := ws[0].String()
	if !strings.HasPrefix(s, fmt.Sprintf("1:%d: precedence: ", orAt+1)) || !strings.HasSuffix(s, "; suggested: "+seedFixed) {
		t.Errorf("String(): %s", s)
	}
	// Without a catalog the two findings are the same.
	bare, err := Lint(seedQuery, nil)
	if err != nil || len(bare) != 2 || bare[0].Kind != KindPrecedence || bare[1].Kind != KindBareValue ||
		bare[0].Rewrite != seedFixed || bare[1].Rewrite != seedFixed {
		t.Errorf("without fields: %v %v", bare, err)
	}
	if s := (Warning{Kind: KindUnknownField, Line: 2, Col: 3, Message: "m"}).String(); s != "2:3: unknown-field: m" {
		t.Errorf("String without rewrite: %q", s)
	}
	// The corrected query is clean, and means what was meant.
	if ws, err := Lint(seedFixed, testFields); err != nil || len(ws) != 0 {
		t.Errorf("corrected seed: %v %v", ws, err)
	}
}

func TestLint(t *testing.T) {
	type want struct {
		kind    string
		at      string // the warning's offset is the first occurrence of at
		rewrite string
		msg     string // a part of the message
	}
	cases := []struct {
		query  string
		fields Fields
		want   []want
	}{
		{`event.action : start or end`, testFields, []want{{KindBareValue, "end", `event.action : (start or end)`, "every field"}}},
		{`end or event.action : start`, testFields, []want{{KindBareValue, "end", `event.action : (end or start)`, ""}}},
		{`event.action : start or end or "re start"`, testFields, []want{
			{KindBareValue, "end", `event.action : (start or end or "re start")`, ""},
			{KindBareValue, `"re`, `event.action : (start or end or "re start")`, ""}}},
		{`event.action : (start or end) or restart`, testFields, []want{{KindBareValue, "restart", `event.action : (start or end or restart)`, ""}}},
		{`host.name : a and event.action : start or end`, nil, []want{
			{KindPrecedence, "or", `host.name : a and event.action : (start or end)`, "reads as (host.name : a and event.action : start) or end"},
			{KindBareValue, "end", `host.name : a and event.action : (start or end)`, ""}}},
		{`event.action : start and host.name : a or host.name : b`, testFields, []want{
			{KindPrecedence, "or", `(event.action : start and host.name : a) or host.name : b`, ""}}},
		{`a:1 or b:2 and c:3`, nil, []want{{KindPrecedence, "or", `a : 1 or (b : 2 and c : 3)`, ""}}},
		{`(a:1 and b:2) or c:3`, nil, nil},
		{`event.action : (a and b or c)`, testFields, []want{{KindPrecedence, "or", `event.action : ((a and b) or c)`, ""}}},
		{`event.action : (a or b) and not host.name : x`, testFields, nil},
		{`powershell`, nil, []want{{KindBareValue, "powershell", "", "every field"}}},
		{`not powershell and event.action:start`, testFields, []want{{KindBareValue, "powershell", "", ""}}},
		{`null : x`, nil, []want{{KindBareValue, "null", "", "null"}}},
		{`process.Ext.code_signature : { x }`, testFields, []want{{KindBareValue, "x }", "", "process.Ext.code_signature.null"}}},
		{`event.actoin : start`, testFields, []want{{KindUnknownField, "event", `event.action : start`, "did you mean event.action"}}},
		{`Event.Action : start`, testFields, []want{{KindUnknownField, "Event", `event.action : start`, ""}}},
		{`zzz : 1 and process.pidd > 3`, testFields, []want{
			{KindUnknownField, "zzz", "", "unknown field zzz"},
			{KindUnknownField, "process", `zzz : 1 and process.pid > 3`, ""}}},
		{`nothing.* : x`, testFields, []want{{KindUnknownField, "nothing", "", "matches no known field"}}},
		{`process.Ext.code_signature : { trusted : true and subjectname : x }`, testFields, []want{
			{KindUnknownField, "subjectname", `process.Ext.code_signature : { trusted : true and subject_name : x }`, ""}}},
		{`process.Ext.code_signatures : { trusted : true }`, testFields, []want{
			{KindUnknownField, "process", `process.Ext.code_signature : { trusted : true }`, "unknown nested path"},
			{KindUnknownField, "trusted", "", "unknown field process.Ext.code_signatures.trusted"}}},
		{`process.name* : x and * : y and zzz`, testFields, []want{{KindBareValue, "zzz", "", ""}}},
		{`process.pid : abc`, testFields, []want{{KindTypeMismatch, "abc", "", "not a number"}}},
		{`process.pid : 1.5`, testFields, []want{{KindTypeMismatch, "1.5", "", "whole number"}}},
		{`process.Ext.session_info.id : -1`, testFields, []want{{KindTypeMismatch, "-1", "", "negative"}}},
		{`process.Ext.relative_file_creation_time : x1`, testFields, []want{{KindTypeMismatch, "x1", "", "not a number"}}},
		{`host.ip : server1`, testFields, []want{{KindTypeMismatch, "server1", "", "IP"}}},
		{`@timestamp : yesterday`, testFields, []want{{KindTypeMismatch, "yesterday", "", "not a date"}}},
		{`@timestamp < "last week"`, testFields, []want{{KindTypeMismatch, `"last`, "", "not a date"}}},
		{`process.pid > abc`, testFields, []want{{KindTypeMismatch, "abc", "", "not a number"}}},
		{`process.Ext.code_signature : { trusted : yes }`, testFields, []want{{KindTypeMismatch, "yes", "", "true or false"}}},
		{`process.pid : (4 or 12*)`, testFields, []want{{KindTypeMismatch, "12*", "", "wildcard"}}},
		{`process.pid : 4 and host.ip : "10.0.0.0/8" and host.ip : "::1" and @timestamp >= now-1d and @timestamp : 2024-01-01 and process.Ext.relative_file_creation_time < 1.5e3 and process.Ext.code_signature : { trusted : true } and process.pid : *`, testFields, nil},
		{`process.Ext.code_signature.trusted : true`, testFields, []want{{KindNested, "process", `process.Ext.code_signature : { trusted : true }`, "inside the nested field process.Ext.code_signature"}}},
		{`event.action : start and process.Ext.code_signature.subject_name >= m`, testFields, []want{{KindNested, "process", `event.action : start and process.Ext.code_signature : { subject_name >= m }`, ""}}},
		{`process.Ext.code_signature : x`, testFields, []want{{KindNested, "process", "", "is a nested field"}}},
		{`process.Ext.token : { integrity_level_name : high }`, testFields, []want{
			{KindNested, "process", "", "not nested"},
			{KindNested, "integrity", "", "not inside a nested field"}}},
		{`process.Ext.token : high`, testFields, []want{{KindTypeMismatch, "process", "", "object"}}},
		{`process.Ext.token : *`, testFields, nil},
	}
	for _, c := range cases {
		ws, err := Lint(c.query, c.fields)
		if err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		if len(ws) != len(c.want) {
			t.Errorf("%s: got %d warnings, want %d:\n%v", c.query, len(ws), len(c.want), ws)
			continue
		}
		for i, w := range ws {
			x := c.want[i]
			if w.Kind != x.kind || w.Offset != strings.Index(c.query, x.at) || w.Rewrite != x.rewrite || !strings.Contains(w.Message, x.msg) {
				t.Errorf("%s: warning %d:\n got: %s at %d: %s\n      rewrite %q\nwant: %s at %d, rewrite %q, message with %q",
					c.query, i, w.Kind, w.Offset, w.Message, w.Rewrite, x.kind, strings.Index(c.query, x.at), x.rewrite, x.msg)
			}
			if w.Rewrite != "" {
				if _, err := Parse(w.Rewrite); err != nil {
					t.Errorf("%s: rewrite %q does not parse: %v", c.query, w.Rewrite, err)
				}
			}
		}
	}
}

// A rewrite fixes the finding it was made for.
func TestLintRewritesFix(t *testing.T) {
	for _, q := range []string{seedQuery, `event.action : start or end`, `a:1 or b:2 and c:3`, `event.actoin : start`,
		`process.Ext.code_signature.trusted : true`, `event.action : (a and b or c)`} {
		ws, err := Lint(q, testFields)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			if w.Rewrite == "" {
				continue
			}
			again, err := Lint(w.Rewrite, testFields)
			if err != nil {
				t.Fatal(err)
			}
			for _, w2 := range again {
				if w2.Kind == w.Kind && w2.Kind != KindUnknownField {
					t.Errorf("%s: rewrite %q still has %s: %s", q, w.Rewrite, w2.Kind, w2.Message)
				}
			}
		}
	}
}

func TestLintSyntaxError(t *testing.T) {
	if _, err := Lint(`a:b:c`, nil); err == nil {
		t.Fatal("want a syntax error")
	}
}
