package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/procbeat/procbeat/fields"
)

// TestGeneratedDocumentIsFresh fails when fields.yml changed without
// `mage update` regenerating fields/document/document_gen.go.
func TestGeneratedDocumentIsFresh(t *testing.T) {
	cat, err := fields.Load()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Generate(cat)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../fields/document/document_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("fields/document/document_gen.go is stale: run `mage update`")
	}
}
