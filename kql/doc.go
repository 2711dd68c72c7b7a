// Package kql parses Kibana's query language (KQL), prints it back in a
// canonical form, translates it to Elasticsearch Query DSL the way Kibana
// 8.x does, and lints it for the traps that make a query mean something
// other than what it says.
//
// # Why a linter
//
// In Kibana's KQL `not` binds tighter than `and`, and `and` tighter than
// `or`. So
//
//	event.action : "start" and host.os.type : "windows" or "end"
//
// means `(event.action : "start" and host.os.type : "windows") or "end"`,
// and a bare "end" searches every field of every document. Lint reports
// both traps and suggests `... and event.action : ("start" or "end")`.
// Elasticsearch's own `kql` query reads it a third way (below).
//
// # Elasticsearch's own kql query
//
// Elasticsearch answers `{"query":{"kql":{"query":...}}}` through its
// x-pack-kql plugin (8.19, installed into the test image by tools/esimage;
// 9.x). It is a second KQL engine, not Kibana's, and the integration tests
// (testing/e2e/kql_test.go, testing/integration) run every query they send
// through this package on the same documents through it too. Measured on
// 8.19.21, it agrees with this package except in two ways, both asserted by
// those tests:
//   - `and` and `or` have equal precedence, grouped from the right (`not`
//     still binds tightest). `a:1 and b:1 or c:1` is `a:1 and (b:1 or c:1)`
//     there, `(a:1 and b:1) or c:1` in Kibana and here; queries whose
//     readings coincide (`a:1 or b:1 and c:1`, explicit parentheses) agree.
//     The seed's query `dataset and module and os and action : "start" or
//     "end"` thus finds the Windows start and end documents there, and here,
//     as in Kibana, also every other document holding "end" anywhere.
//   - A value list, `field : (v1 or v2)` or with `and`, is a parse error
//     ("missing ')' at 'or'"), so Elastic's own corrected form of the seed's
//     query, `event.action : ("start" or "end")`, is refused; written out as
//     `(event.action : "start" or event.action : "end")` both engines return
//     the same documents. The same refusal was reported against 9.1.0 as
//     elastic/elasticsearch#132366.
//
// Kibana is the reference for what a detection or a Discover search
// returns, so this package follows Kibana, and `kql lint` flags the
// precedence trap that makes the two engines disagree.
//
// # Grammar
//
// Parse follows Kibana 8.9's grammar, including its corners, which the
// differential test checks against Kibana itself (acceptance, error offset
// and expectation list):
//   - unquoted values may contain blanks (`message : hello world` is one
//     value) and end at a special character `\():<>"*{}`, at ` or `/` and `
//     between blanks, or at `not` followed by a blank, even inside a word
//     (so `cannot x` is a syntax error);
//   - a trailing keyword is text: `f : a or` is the value "a or";
//   - escapes in unquoted text: `\\ \( \) \: \< \> \" \* \{ \}`, `\t \r \n`,
//     `\uXXXX`, and `\or \and \not` — except that `\not` reads as a newline
//     followed by "ot", because `\n` wins; Format writes `\u006eot` instead;
//   - quoted strings know only `\\`, `\"`, `\t \r \n` and `\uXXXX`; any other
//     backslash is kept as it is, and `*` is never a wildcard in quotes;
//   - unquoted values are trimmed (with JavaScript's notion of blank);
//   - `not not x` is a syntax error (`not` takes a field expression or a
//     parenthesised query);
//   - a lone UTF-16 surrogate written as `\uD83D` becomes U+FFFD (Go
//     strings cannot hold it; Kibana keeps it).
//
// # Translation
//
// Translate reproduces Kibana 8.9's @kbn/es-query output (checked member for
// member by the differential test). Given a Fields catalog in the role of a
// data view:
//   - `and` is bool.filter, `or` bool.should with minimum_should_match 1,
//     `not` bool.must_not (a single object, as Kibana writes it);
//   - every `field : value` and range is a bool.should (minimum_should_match
//     1) with one clause per field the name stands for: field-name wildcards
//     expand against the catalog's names (object and nested parents are not
//     data-view fields), and a name that matches nothing is sent as written;
//   - keyword fields get term (value as written, quoted or not); every
//     other type, including wildcard, constant_keyword, match_only_text,
//     text, numbers, ip and boolean, gets match_phrase for a quoted value
//     and match for an unquoted one. Kibana checks for exactly "keyword", so
//     the wish list (term for constant_keyword, wildcard queries for
//     wildcard-type fields) is not what Kibana does, and this package
//     follows Kibana;
//   - a value with an unquoted `*` becomes a wildcard query on keyword
//     fields (case_insensitive only when Options.CaseInsensitive is set) and
//     a query_string query (fields [name], query_string special characters
//     escaped) on everything else; `field : *` is exists; `* : *` is
//     match_all, and so is an exists query that covers every catalog field;
//   - date fields (date, date_nanos) get range with gte and lte equal to the
//     value, and time_zone from Options.TimeZone; ranges `< <= > >=` are
//     range lt/lte/gt/gte, with time_zone on date fields. Kibana's KQL sets
//     no `format` (only its time-picker filter sends
//     strict_date_optional_time), so neither does this package;
//   - values are strings, numbers included; unquoted true, false and null
//     are JSON literals;
//   - a bare value is multi_match with type best_fields (unquoted) or
//     phrase (quoted) and lenient true, without fields, so Elasticsearch
//     uses index.query.default_field (every field by default); a bare
//     wildcard value is query_string without fields;
//   - `path : { query }` is nested with score_mode none, field names inside
//     prefixed with the path; a nested field reached through a field-name
//     wildcard outside a nested group is wrapped in its own nested query;
//     a nested field named outside its group, or a plain field inside one,
//     is a TranslateError, as Kibana refuses them.
//
// Without a catalog (fields nil) Kibana, and this package, send every name
// as written: match or match_phrase, query_string for wildcard values.
// Kibana's oddities are kept on purpose so that procbeat returns what
// Kibana would: a bare value inside a nested group searches the field
// "<path>.null"; unquoted true, false and null used as names stay JSON
// literals where a name is a value (exists.field, query_string.fields,
// nested.path), and a nested group whose path is "", false or null adds no
// prefix but makes every known field an error; an escaped `\*` in a
// wildcard value on a keyword field turns into a wildcard, because the
// wildcard query has no escape.
package kql
