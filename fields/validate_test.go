package fields_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/fields"
)

func TestExampleDocumentValidates(t *testing.T) {
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range cat.Datasets {
		doc, err := cat.ExampleDocument(ds.Name)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(doc)
		if errs := cat.Validate(ds.Name, raw); len(errs) > 0 {
			t.Errorf("%s: example document invalid: %v", ds.Name, errs)
		}
	}
}

func TestValidateCatchesStrayAndMistypedFields(t *testing.T) {
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	ds := cat.Datasets[0].Name
	for doc, want := range map[string]string{
		`{"process":{"pid":"12"}}`:                                   "process.pid: want a long",
		`{"process":{"nope":"x"}}`:                                   "process.nope: not a catalog field",
		`{"host":{"ip":"10.0.0.300"}}`:                               "host.ip: want an IP",
		`{"@timestamp":"yesterday"}`:                                 "@timestamp: want an RFC 3339 date",
		`{"process":{"name":["a","b"]}}`:                             "process.name: array for a single-valued field",
		`{"process":{"Ext":{"code_signature":[{"trusted":"yes"}]}}}`: "process.Ext.code_signature.trusted: want a boolean",
		`{"process":{"Ext":{"session_info":{"id":-1}}}}`:             "process.Ext.session_info.id: want an unsigned long",
	} {
		errs := cat.Validate(ds, []byte(doc))
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), want) {
			t.Errorf("%s: got %v, want one error containing %q", doc, errs, want)
		}
	}
	if errs := cat.Validate(ds, []byte(`{"process":{"pid":4,"args":["a","b"],"Ext":{"code_signature":[{"exists":true}]}}}`)); len(errs) != 0 {
		t.Errorf("valid document rejected: %v", errs)
	}
}
