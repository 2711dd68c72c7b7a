package kql

import (
	"errors"
	"strings"
	"testing"
)

// Shorthands for the expected DSL: Kibana wraps every field query in a
// bool.should with minimum_should_match 1 (one clause per matched field).
func sh(qs ...string) string {
	return `{"bool":{"should":[` + strings.Join(qs, ",") + `],"minimum_should_match":1}}`
}
func and(qs ...string) string { return `{"bool":{"filter":[` + strings.Join(qs, ",") + `]}}` }
func not(q string) string     { return `{"bool":{"must_not":` + q + `}}` }

type translateCase struct {
	name   string
	query  string
	nodv   bool // translate without fields (Kibana without a data view)
	want   string
	errSub string // expected TranslateError text, instead of want
}

// translateCases is shared with the differential test against Kibana.
var translateCases = []translateCase{
	{name: "seed as written", query: seedQuery, want: sh(
		and(
			sh(`{"term":{"event.dataset":{"value":"endpoint.events.process"}}}`),
			sh(`{"term":{"event.module":{"value":"endpoint"}}}`),
			sh(`{"term":{"host.os.type":{"value":"windows"}}}`),
			sh(`{"term":{"event.action":{"value":"start"}}}`)),
		`{"multi_match":{"type":"phrase","query":"end","lenient":true}}`)},
	{name: "seed corrected", query: seedFixed, want: and(
		sh(`{"term":{"event.dataset":{"value":"endpoint.events.process"}}}`),
		sh(`{"term":{"event.module":{"value":"endpoint"}}}`),
		sh(`{"term":{"host.os.type":{"value":"windows"}}}`),
		sh(sh(`{"term":{"event.action":{"value":"start"}}}`), sh(`{"term":{"event.action":{"value":"end"}}}`)))},
	{name: "seed without data view", query: seedQuery, nodv: true, want: sh(
		and(
			sh(`{"match_phrase":{"event.dataset":"endpoint.events.process"}}`),
			sh(`{"match_phrase":{"event.module":"endpoint"}}`),
			sh(`{"match_phrase":{"host.os.type":"windows"}}`),
			sh(`{"match_phrase":{"event.action":"start"}}`)),
		`{"multi_match":{"type":"phrase","query":"end","lenient":true}}`)},
	{name: "keyword quoted", query: `event.action : "start"`, want: sh(`{"term":{"event.action":{"value":"start"}}}`)},
	{name: "keyword unquoted", query: `event.action:start`, want: sh(`{"term":{"event.action":{"value":"start"}}}`)},
	{name: "text quoted", query: `process.name.text : "cmd exe"`, want: sh(`{"match_phrase":{"process.name.text":"cmd exe"}}`)},
	{name: "text unquoted with blanks", query: `process.name.text : cmd exe`, want: sh(`{"match":{"process.name.text":"cmd exe"}}`)},
	{name: "match_only_text", query: `message : hello world`, want: sh(`{"match":{"message":"hello world"}}`)},
	{name: "wildcard type quoted", query: `process.command_line : "whoami /all"`, want: sh(`{"match_phrase":{"process.command_line":"whoami /all"}}`)},
	{name: "wildcard type unquoted", query: `process.command_line : whoami`, want: sh(`{"match":{"process.command_line":"whoami"}}`)},
	{name: "constant_keyword", query: `data_stream.dataset : endpoint.events.process`, want: sh(`{"match":{"data_stream.dataset":"endpoint.events.process"}}`)},
	{name: "long", query: `process.pid : 4`, want: sh(`{"match":{"process.pid":"4"}}`)},
	{name: "ip cidr", query: `host.ip : "10.0.0.0/8"`, want: sh(`{"match_phrase":{"host.ip":"10.0.0.0/8"}}`)},
	{name: "keyword wildcard value", query: `process.name : cmd*`, want: sh(`{"wildcard":{"process.name":{"value":"cmd*"}}}`)},
	{name: "wildcard type wildcard value", query: `process.command_line : *whoami*`, want: sh(`{"query_string":{"fields":["process.command_line"],"query":"*whoami*"}}`)},
	{name: "text wildcard value escapes", query: `process.name.text : a-b\:c*`, want: sh(`{"query_string":{"fields":["process.name.text"],"query":"a\\-b\\:c*"}}`)},
	{name: "escaped star is literal but joins the wildcard value", query: `process.name : a\*b*`, want: sh(`{"wildcard":{"process.name":{"value":"a*b*"}}}`)},
	{name: "escaped star in query_string", query: `message : a\*b*`, want: sh(`{"query_string":{"fields":["message"],"query":"a\\*b*"}}`)},
	{name: "escaped star alone is a term", query: `process.name : a\*b`, want: sh(`{"term":{"process.name":{"value":"a*b"}}}`)},
	{name: "quoted star is no wildcard", query: `process.name : "a*"`, want: sh(`{"term":{"process.name":{"value":"a*"}}}`)},
	{name: "exists", query: `process.name : *`, want: sh(`{"exists":{"field":"process.name"}}`)},
	{name: "exists on object", query: `process.Ext.token : *`, want: sh(`{"exists":{"field":"process.Ext.token"}}`)},
	{name: "match all", query: `*:*`, want: `{"match_all":{}}`},
	{name: "empty", query: ``, want: `{"match_all":{}}`},
	{name: "blank", query: " \t\n", want: `{"match_all":{}}`},
	{name: "date is range", query: `@timestamp : "2024-01-02T03:04:05Z"`, want: sh(`{"range":{"@timestamp":{"gte":"2024-01-02T03:04:05Z","lte":"2024-01-02T03:04:05Z","time_zone":"UTC"}}}`)},
	{name: "date range", query: `@timestamp >= now-1d`, want: sh(`{"range":{"@timestamp":{"gte":"now-1d","time_zone":"UTC"}}}`)},
	{name: "range gt", query: `process.pid > 4`, want: sh(`{"range":{"process.pid":{"gt":"4"}}}`)},
	{name: "range lt quoted", query: `process.pid<"10"`, want: sh(`{"range":{"process.pid":{"lt":"10"}}}`)},
	{name: "range lte", query: `process.Ext.relative_file_creation_time <= 1.5`, want: sh(`{"range":{"process.Ext.relative_file_creation_time":{"lte":"1.5"}}}`)},
	{name: "range on keyword", query: `host.name >= m`, want: sh(`{"range":{"host.name":{"gte":"m"}}}`)},
	{name: "range unknown field", query: `foo < 3`, want: sh(`{"range":{"foo":{"lt":"3"}}}`)},
	{name: "not", query: `not event.action : end`, want: not(sh(`{"term":{"event.action":{"value":"end"}}}`))},
	{name: "NOT upper case", query: `NOT event.action:end`, want: not(sh(`{"term":{"event.action":{"value":"end"}}}`))},
	{name: "precedence", query: `a:1 or b:2 and not c:3`, nodv: true, want: sh(
		sh(`{"match":{"a":"1"}}`),
		and(sh(`{"match":{"b":"2"}}`), not(sh(`{"match":{"c":"3"}}`))))},
	{name: "parentheses", query: `(a:1 or b:2) and c:3`, nodv: true, want: and(
		sh(sh(`{"match":{"a":"1"}}`), sh(`{"match":{"b":"2"}}`)),
		sh(`{"match":{"c":"3"}}`))},
	{name: "value group", query: `event.action : (start or end and not x)`, want: sh(
		sh(`{"term":{"event.action":{"value":"start"}}}`),
		and(sh(`{"term":{"event.action":{"value":"end"}}}`), not(sh(`{"term":{"event.action":{"value":"x"}}}`))))},
	{name: "not value group", query: `not event.action : (start or end)`, want: not(sh(
		sh(`{"term":{"event.action":{"value":"start"}}}`), sh(`{"term":{"event.action":{"value":"end"}}}`)))},
	{name: "bare unquoted", query: `powershell`, want: `{"multi_match":{"type":"best_fields","query":"powershell","lenient":true}}`},
	{name: "bare quoted", query: `"power shell"`, want: `{"multi_match":{"type":"phrase","query":"power shell","lenient":true}}`},
	{name: "bare wildcard", query: `power*`, want: `{"query_string":{"query":"power*"}}`},
	{name: "bare lone wildcard", query: `*`, want: `{"query_string":{"query":"*"}}`},
	{name: "bare true", query: `true`, want: `{"multi_match":{"type":"best_fields","query":true,"lenient":true}}`},
	{name: "field null is bare", query: `null : x`, want: `{"multi_match":{"type":"best_fields","query":"x","lenient":true}}`},
	{name: "field true", query: `true : x`, want: sh(`{"match":{"true":"x"}}`)},
	{name: "quoted field", query: `"event.action" : start`, want: sh(`{"term":{"event.action":{"value":"start"}}}`)},
	{name: "escaped field", query: `a\:b : c`, want: sh(`{"match":{"a:b":"c"}}`)},
	{name: "null value", query: `user.name : null`, want: sh(`{"term":{"user.name":{"value":null}}}`)},
	{name: "quoted null is text", query: `user.name : "null"`, want: sh(`{"term":{"user.name":{"value":"null"}}}`)},
	{name: "field wildcard", query: `process.name* : cmd`, want: sh(
		`{"term":{"process.name":{"value":"cmd"}}}`,
		`{"term":{"process.name.caseless":{"value":"cmd"}}}`,
		`{"match":{"process.name.text":"cmd"}}`)},
	{name: "field wildcard exists", query: `process.name.* : *`, want: sh(
		`{"exists":{"field":"process.name.caseless"}}`,
		`{"exists":{"field":"process.name.text"}}`)},
	{name: "field wildcard over nested fields", query: `process.Ext.code_signature.* : x`, want: sh(
		`{"nested":{"path":"process.Ext.code_signature","query":{"term":{"process.Ext.code_signature.subject_name":{"value":"x"}}},"score_mode":"none"}}`,
		`{"nested":{"path":"process.Ext.code_signature","query":{"match":{"process.Ext.code_signature.trusted":"x"}},"score_mode":"none"}}`)},
	{name: "field wildcard matching nothing", query: `nothing.* : x`, want: sh(`{"match":{"nothing.*":"x"}}`)},
	{name: "unknown field", query: `foo.bar : baz`, want: sh(`{"match":{"foo.bar":"baz"}}`)},
	{name: "unknown field quoted", query: `foo.bar : "baz qux"`, want: sh(`{"match_phrase":{"foo.bar":"baz qux"}}`)},
	{name: "unknown field wildcard", query: `foo.bar : ba?z*`, want: sh(`{"query_string":{"fields":["foo.bar"],"query":"ba\\?z*"}}`)},
	{name: "no data view wildcard", query: `process.name : cmd*`, nodv: true, want: sh(`{"query_string":{"fields":["process.name"],"query":"cmd*"}}`)},
	{name: "no data view date", query: `@timestamp : 2024`, nodv: true, want: sh(`{"match":{"@timestamp":"2024"}}`)},
	{name: "nested", query: `process.Ext.code_signature : { trusted : true and subject_name : "Microsoft Windows" }`, want: `{"nested":{"path":"process.Ext.code_signature","query":` + and(
		sh(`{"match":{"process.Ext.code_signature.trusted":true}}`),
		sh(`{"term":{"process.Ext.code_signature.subject_name":{"value":"Microsoft Windows"}}}`)) + `,"score_mode":"none"}}`},
	{name: "nested exists and range", query: `process.Ext.code_signature:{subject_name:* or trusted < 1}`, want: `{"nested":{"path":"process.Ext.code_signature","query":` + sh(
		sh(`{"exists":{"field":"process.Ext.code_signature.subject_name"}}`),
		sh(`{"range":{"process.Ext.code_signature.trusted":{"lt":"1"}}}`)) + `,"score_mode":"none"}}`},
	{name: "nested bare value", query: `process.Ext.code_signature : { x }`, want: `{"nested":{"path":"process.Ext.code_signature","query":` +
		sh(`{"match":{"process.Ext.code_signature.null":"x"}}`) + `,"score_mode":"none"}}`},
	{name: "nested in nested", query: `a:{ b:{ c:1 } }`, nodv: true, want: `{"nested":{"path":"a","query":{"nested":{"path":"a.b","query":` +
		sh(`{"match":{"a.b.c":"1"}}`) + `,"score_mode":"none"}},"score_mode":"none"}}`},
	{name: "nested field outside group", query: `process.Ext.code_signature.trusted : true`,
		errSub: "process.Ext.code_signature.trusted is a nested field, but is not in a nested group"},
	{name: "unknown field inside group", query: `process.Ext.code_signature : { process.name : x }`, want: `{"nested":{"path":"process.Ext.code_signature","query":` +
		sh(`{"match":{"process.Ext.code_signature.process.name":"x"}}`) + `,"score_mode":"none"}}`},
	{name: "plain known field inside group", query: `process : { name : x }`,
		errSub: `process.name is not a nested field but is in nested group "process"`},
	{name: "escapes", query: `user.name : a\(b\)\:\<\>\"\\\{\}\or\AND \u0041\tz`, want: sh(`{"term":{"user.name":{"value":"a(b):<>\"\\{}orAND A\tz"}}}`)},
	{name: "quoted escapes", query: `user.name : "a\"b\\c\d\n\u00e9"`, want: sh(`{"term":{"user.name":{"value":"a\"b\\c\\d\né"}}}`)},
	{name: "keywords inside values", query: `message : cat or dog and not bird`, want: sh(
		sh(`{"match":{"message":"cat"}}`),
		and(`{"multi_match":{"type":"best_fields","query":"dog","lenient":true}}`,
			not(`{"multi_match":{"type":"best_fields","query":"bird","lenient":true}}`)))},
	{name: "trailing keyword is text", query: `message : cat or`, want: sh(`{"match":{"message":"cat or"}}`)},
	// Kibana quirks with the unquoted literals true, false and null as
	// names: they stay JSON literals where the name is a value, and a
	// falsy nested path prefixes nothing.
	{name: "true field exists", query: `true : *`, nodv: true, want: sh(`{"exists":{"field":true}}`)},
	{name: "true field query_string", query: `true : a*`, nodv: true, want: sh(`{"query_string":{"fields":[true],"query":"a*"}}`)},
	{name: "true nested path", query: `true : { x : 1 }`, nodv: true, want: `{"nested":{"path":true,"query":` + sh(`{"match":{"true.x":"1"}}`) + `,"score_mode":"none"}}`},
	{name: "false nested path prefixes nothing", query: `false : { x : 1 or y }`, nodv: true, want: `{"nested":{"path":false,"query":` +
		sh(sh(`{"match":{"x":"1"}}`), `{"multi_match":{"type":"best_fields","query":"y","lenient":true}}`) + `,"score_mode":"none"}}`},
	{name: "empty nested path", query: `"" : { x : * }`, nodv: true, want: `{"nested":{"path":"","query":` + sh(`{"exists":{"field":"x"}}`) + `,"score_mode":"none"}}`},
	{name: "html characters stay plain", query: `message : "<a&b>"`, want: sh(`{"match_phrase":{"message":"<a&b>"}}`)},
}

func TestTranslate(t *testing.T) {
	for _, c := range translateCases {
		t.Run(c.name, func(t *testing.T) {
			var f Fields = testFields
			if c.nodv {
				f = nil
			}
			got, err := Translate(mustParse(t, c.query), f)
			if c.errSub != "" {
				var te *TranslateError
				if !errors.As(err, &te) || !strings.Contains(err.Error(), c.errSub) {
					t.Fatalf("%s: want error containing %q, got %v (%s)", c.query, c.errSub, err, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", c.query, err)
			}
			if !sameJSON(t, got.String(), c.want) {
				t.Errorf("%s\n got: %s\nwant: %s", c.query, got, c.want)
			}
		})
	}
}

func TestTranslateOptions(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		query string
		opt   Options
		want  string
	}{
		{`event.action : start`, Options{CaseInsensitive: &yes}, sh(`{"term":{"event.action":{"value":"start","case_insensitive":true}}}`)},
		{`event.action : st*`, Options{CaseInsensitive: &no}, sh(`{"wildcard":{"event.action":{"value":"st*","case_insensitive":false}}}`)},
		{`message : st*`, Options{CaseInsensitive: &yes}, sh(`{"query_string":{"fields":["message"],"query":"st*"}}`)},
		{`@timestamp < 2024`, Options{}, sh(`{"range":{"@timestamp":{"lt":"2024"}}}`)},
		{`@timestamp : 2024`, Options{TimeZone: "Europe/Paris"}, sh(`{"range":{"@timestamp":{"gte":"2024","lte":"2024","time_zone":"Europe/Paris"}}}`)},
		{`a:1 and b:2`, Options{FiltersInMust: true}, `{"bool":{"must":[` + sh(`{"match":{"a":"1"}}`) + `,` + sh(`{"match":{"b":"2"}}`) + `]}}`},
		{`process.Ext.code_signature : { trusted : true }`, Options{NestedIgnoreUnmapped: &yes},
			`{"nested":{"path":"process.Ext.code_signature","query":` + sh(`{"match":{"process.Ext.code_signature.trusted":true}}`) + `,"score_mode":"none","ignore_unmapped":true}}`},
		{`process.Ext.code_signature.t* : true`, Options{NestedIgnoreUnmapped: &no},
			sh(`{"nested":{"path":"process.Ext.code_signature","query":{"match":{"process.Ext.code_signature.trusted":true}},"score_mode":"none","ignore_unmapped":false}}`)},
	}
	for _, c := range cases {
		got, err := TranslateOptions(mustParse(t, c.query), testFields, c.opt)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if !sameJSON(t, got.String(), c.want) {
			t.Errorf("%s\n got: %s\nwant: %s", c.query, got, c.want)
		}
	}
}

// Kibana answers match_all for an exists query that covers every field of
// the data view, even through a field it does not know.
func TestTranslateExistsOnEveryField(t *testing.T) {
	one := MapFields{"a": "keyword"}
	for _, q := range []string{`a : *`, `b : *`, `* : *`} {
		got, err := Translate(mustParse(t, q), one)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != `{"match_all":{}}` {
			t.Errorf("%s: got %s", q, got)
		}
	}
	got, err := Translate(mustParse(t, `b : *`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := sh(`{"exists":{"field":"b"}}`); got.String() != want {
		t.Errorf("no data view: got %s want %s", got, want)
	}
}

// The output is deterministic and in Kibana's member order.
func TestTranslateOrderedOutput(t *testing.T) {
	n := mustParse(t, seedQuery)
	a, _ := Translate(n, testFields)
	for i := 0; i < 20; i++ {
		b, _ := Translate(n, testFields)
		if a.String() != b.String() {
			t.Fatal("translation is not deterministic")
		}
	}
	want := `{"bool":{"should":[{"bool":{"filter":[{"bool":{"should":[{"term":{"event.dataset":{"value":"endpoint.events.process"}}}],"minimum_should_match":1}}`
	if !strings.HasPrefix(a.String(), want) {
		t.Errorf("member order: got %s", a)
	}
	if ind := a.Indent(); !strings.Contains(ind, "\n  \"bool\": {\n    \"should\": [") {
		t.Errorf("Indent: %s", ind)
	}
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		name, pattern string
		stars         []int
		want          bool
	}{
		{"process.name", "process.*", []int{8}, true},
		{"process", "process.*", []int{8}, false},
		{"process.", "process.*", []int{8}, true},
		{"a.b.c", "*.c", []int{0}, true},
		{"a.b.c", "a*b*c", []int{1, 3}, true},
		{"abc", "a*b*c", []int{1, 3}, true},
		{"ab", "a*b*b", []int{1, 3}, false},
		{"abab", "a*b*b", []int{1, 3}, true},
		{"a*b", "a*b", nil, true},
		{"axb", "a*b", nil, false},
		{"a*xb", "a**b", []int{2}, true}, // the first star is an escaped one
		{"axxb", "a**b", []int{2}, false},
		{"\xa7000", "\xa7*000", []int{1}, true},
		{"", "*", []int{0}, true},
	}
	for _, c := range cases {
		if got := globMatch(c.name, c.pattern, c.stars); got != c.want {
			t.Errorf("globMatch(%q, %q, %v) = %v", c.name, c.pattern, c.stars, got)
		}
	}
}

func TestTranslateQuery(t *testing.T) {
	got, err := TranslateQuery(`event.action : start`, testFields)
	if err != nil || got.String() != sh(`{"term":{"event.action":{"value":"start"}}}`) {
		t.Errorf("got %s, %v", got, err)
	}
	var se *SyntaxError
	if _, err := TranslateQuery(`a:b:c`, testFields); !errors.As(err, &se) || se.Offset != 3 {
		t.Errorf("want syntax error at 3, got %v", err)
	}
}
