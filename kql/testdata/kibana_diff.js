// Differential harness for kql_diff_test.go (procbeat, Apache-2.0).
// Usage: node kibana_diff.js PACKAGE_DIR < request.json
// request: {"fields": [{"name", "esType", "nested"}], "config": {Kibana's
//           dateFormatTZ, caseInsensitive, nestedIgnoreUnmapped,
//           filtersInMustClause}, "queries": ["..."]}
// Prints one JSON line per query: {"error": bool, "offset": n,
//   "message": s, "withFields": dsl, "withoutFields": dsl, "translateError": s}
// It only calls the published package's API; none of its code is copied here.
'use strict';
const path = require('path');
const pkg = require(path.join(process.argv[2], 'node_modules', 'kbn-es-query')).kbnEsQuery;

// Kibana's data view field type for an Elasticsearch mapping type.
function kibanaType(esType) {
  switch (esType) {
    case 'keyword': case 'text': case 'wildcard': case 'constant_keyword':
    case 'match_only_text': return 'string';
    case 'date': case 'date_nanos': return 'date';
    case 'long': case 'integer': case 'short': case 'byte': case 'double':
    case 'float': case 'half_float': case 'scaled_float': case 'unsigned_long':
      return 'number';
    case 'ip': return 'ip';
    case 'boolean': return 'boolean';
    default: return esType;
  }
}

const req = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const indexPattern = {
  title: 'procbeat-test',
  fields: req.fields.map((f) => {
    const field = { name: f.name, type: kibanaType(f.esType), esTypes: [f.esType], scripted: false };
    if (f.nested) field.subType = { nested: { path: f.nested } };
    return field;
  }),
};
const config = req.config;

for (const q of req.queries) {
  const out = {};
  let ast;
  try {
    ast = pkg.fromKueryExpression(q);
  } catch (e) {
    out.error = true;
    out.message = e.shortMessage || e.message;
    const lines = String(e.message).split('\n');
    out.offset = lines[lines.length - 1].length - 1;
    console.log(JSON.stringify(out));
    continue;
  }
  try {
    out.withoutFields = pkg.toElasticsearchQuery(ast, undefined, config);
  } catch (e) {
    out.translateError = e.message;
  }
  try {
    out.withFields = pkg.toElasticsearchQuery(ast, indexPattern, config);
  } catch (e) {
    out.translateError = e.message;
  }
  console.log(JSON.stringify(out));
}
