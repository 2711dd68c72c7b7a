package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoticeIsFresh regenerates NOTICE.txt from the module graph and
// compares it with the committed file: a dependency added or upgraded
// without regenerating it fails here. It also enforces the licence boundary
// of the default build.
func TestNoticeIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list for every platform")
	}
	root := filepath.Join("..", "..")
	mods, err := Modules(root, "", Platforms)
	if err != nil {
		t.Fatal(err)
	}
	if err := NoElasticLicensed(mods); err != nil {
		t.Fatal(err)
	}
	want := Render(mods, "")
	got, err := os.ReadFile(filepath.Join(root, "NOTICE.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("NOTICE.txt is stale: run `go run ./tools/notice` and commit it")
	}
	for _, m := range mods {
		if !strings.Contains(string(got), "Module: "+m.Path+"\n") {
			t.Errorf("NOTICE.txt lacks %s", m.Path)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"Apache License\n   Version 2.0, January 2004", "Apache-2.0"},
		{"Permission is hereby granted, free of charge, to any person", "MIT"},
		{"Redistribution and use in source and binary forms ... Neither the name of", "BSD-3-Clause"},
		{"Redistribution and use in source and binary forms, with or without", "BSD-2-Clause"},
		{"Elastic License 2.0\n\nURL: ...", "Elastic-2.0"},
		{"Permission is hereby   granted,\nfree of charge ... Apache License Version 2.0", "Apache-2.0 AND MIT"},
		{"All rights reserved.", ""},
	} {
		if got := Classify([]byte(tc.text)); got != tc.want {
			t.Errorf("Classify(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestNoElasticLicensed(t *testing.T) {
	mods := []Module{{Path: "a", Licence: "MIT"}, {Path: "github.com/elastic/elastic-agent-client/v7", Licence: "Elastic-2.0"}}
	err := NoElasticLicensed(mods)
	if err == nil || !strings.Contains(err.Error(), "elastic-agent-client") {
		t.Fatalf("got %v", err)
	}
	if err := NoElasticLicensed(mods[:1]); err != nil {
		t.Fatal(err)
	}
}

// The agent build (-tags agent) is the one that links the Elastic-licensed
// Agent client, and NOTICE generation identifies its licence as such.
func TestAgentBuildLinksElasticAgentClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	mods, err := Modules(filepath.Join("..", ".."), "agent", []string{"linux/amd64"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		if m.Path == "github.com/elastic/elastic-agent-client/v7" {
			// v7.18.1's LICENSE.txt is the Elastic License Agreement of
			// 2018 (Elastic-1.0), which names Apache-2.0 for parts of it.
			if !strings.Contains(m.Licence, "Elastic-1.0") {
				t.Fatalf("%s: licence %q, want the Elastic License (Elastic-1.0)", m.Path, m.Licence)
			}
			if NoElasticLicensed(mods) == nil {
				t.Fatal("NoElasticLicensed accepts the agent build")
			}
			return
		}
	}
	t.Fatal("the agent build does not link github.com/elastic/elastic-agent-client/v7")
}

// TestAgentNoticeIsFresh: NOTICE-agent.txt, which the agent archives ship,
// describes the agent build's modules on every platform, and says at its
// top which Elastic-licensed modules that build links.
func TestAgentNoticeIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list for every platform")
	}
	root := filepath.Join("..", "..")
	mods, err := Modules(root, "agent", Platforms)
	if err != nil {
		t.Fatal(err)
	}
	want := Render(mods, "agent")
	got, err := os.ReadFile(filepath.Join(root, AgentNotice))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run `go run ./tools/notice -tags agent -o %s` and commit it", AgentNotice, AgentNotice)
	}
	head, _, _ := strings.Cut(string(got), "Summary:")
	if !strings.Contains(head, "github.com/elastic/elastic-agent-client/v7") || !strings.Contains(head, "Elastic License") {
		t.Errorf("%s does not say at its top which Elastic-licensed module it links:\n%s", AgentNotice, head)
	}
}
