package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Platforms are the GOOS/GOARCH pairs procbeat is packaged for; a module
// linked on any of them is listed.
var Platforms = []string{"linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}

// MainPackage is the binary whose dependencies are described.
const MainPackage = "./cmd/procbeat"

// Module is one third-party module linked into the binary.
type Module struct {
	Path, Version, Dir string
	Licence            string // SPDX expression, e.g. "Apache-2.0" or "MIT AND Apache-2.0"
	LicenceFile        string // path of the licence text inside Dir
	LicenceText        []byte
	NoticeText         []byte // the module's own NOTICE file, when it has one
}

// Modules lists the modules linked into MainPackage on the platforms, sorted
// by path, with their licences identified. dir is the main module's root.
func Modules(dir, tags string, platforms []string) ([]Module, error) {
	seen := map[string]Module{}
	for _, p := range platforms {
		goos, goarch, ok := strings.Cut(p, "/")
		if !ok {
			return nil, fmt.Errorf("platform %q: want GOOS/GOARCH", p)
		}
		args := []string{"list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}\t{{.Version}}\t{{.Dir}}{{with .Replace}}\t{{.Dir}}{{end}}{{end}}{{end}}"}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		cmd := exec.Command("go", append(args, MainPackage)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go list for %s: %v: %s", p, err, strings.TrimSpace(stderr.String()))
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			f := strings.Split(sc.Text(), "\t")
			if len(f) < 3 {
				continue
			}
			m := Module{Path: f[0], Version: f[1], Dir: f[2]}
			if len(f) == 4 {
				m.Dir = f[3] // a replacement's files are what is linked
			}
			seen[m.Path] = m
		}
	}
	mods := make([]Module, 0, len(seen))
	for _, m := range seen {
		if err := identify(&m); err != nil {
			return nil, err
		}
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(a, b Module) int { return strings.Compare(a.Path, b.Path) })
	return mods, nil
}

// licenceFiles are the names a module's licence text goes by, in order of
// preference.
var licenceFiles = []string{"LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING", "License", "license"}

var noticeFiles = []string{"NOTICE", "NOTICE.txt", "NOTICE.md"}

func identify(m *Module) error {
	for _, name := range licenceFiles {
		b, err := os.ReadFile(filepath.Join(m.Dir, name))
		if err == nil {
			m.LicenceFile, m.LicenceText = name, b
			break
		}
	}
	if m.LicenceText == nil {
		return fmt.Errorf("module %s %s: no licence file in %s", m.Path, m.Version, m.Dir)
	}
	m.Licence = Classify(m.LicenceText)
	if m.Licence == "" {
		return fmt.Errorf("module %s %s: cannot identify the licence in %s", m.Path, m.Version, filepath.Join(m.Dir, m.LicenceFile))
	}
	for _, name := range noticeFiles {
		if b, err := os.ReadFile(filepath.Join(m.Dir, name)); err == nil {
			m.NoticeText = b
			break
		}
	}
	return nil
}

// markers identify licences by phrases their texts always contain. Every
// licence found is reported: a file may carry several (yaml.v3 is MIT and
// Apache-2.0).
var markers = []struct {
	id      string
	phrases []string
}{
	{"Elastic-2.0", []string{"Elastic License 2.0"}},
	{"Elastic-1.0", []string{"ELASTIC LICENSE AGREEMENT"}},
	{"Apache-2.0", []string{"Apache License", "Version 2.0"}},
	{"MIT", []string{"Permission is hereby granted, free of charge"}},
	{"BSD-3-Clause", []string{"Redistribution and use in source and binary forms", "Neither the name"}},
	{"ISC", []string{"Permission to use, copy, modify, and/or distribute this software for any"}},
	{"MPL-2.0", []string{"Mozilla Public License", "2.0"}},
}

// Classify returns the SPDX expression of the licences text holds, or ""
// when it recognises none.
func Classify(text []byte) string {
	s := strings.Join(strings.Fields(string(text)), " ")
	var ids []string
	for _, m := range markers {
		all := true
		for _, p := range m.phrases {
			if !strings.Contains(s, p) {
				all = false
				break
			}
		}
		if all {
			ids = append(ids, m.id)
		}
	}
	// BSD-2-Clause is BSD-3-Clause without the endorsement clause.
	if len(ids) == 0 && strings.Contains(s, "Redistribution and use in source and binary forms") {
		ids = append(ids, "BSD-2-Clause")
	}
	return strings.Join(ids, " AND ")
}

// NoElasticLicensed fails when any module is under an Elastic License.
func NoElasticLicensed(mods []Module) error {
	var bad []string
	for _, m := range mods {
		if strings.Contains(m.Licence, "Elastic-") {
			bad = append(bad, m.Path+" ("+m.Licence+")")
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the default build links Elastic-licensed modules: %s", strings.Join(bad, ", "))
	}
	return nil
}

// AgentNotice is the NOTICE file of the agent build (-tags agent), which
// its release archives ship as NOTICE.txt.
const AgentNotice = "NOTICE-agent.txt"

// Render writes the NOTICE text of the build with these tags ("" is the
// default build).
func Render(mods []Module, tags string) []byte {
	var b bytes.Buffer
	if tags == "" {
		b.WriteString("procbeat\nCopyright the procbeat authors.\n\n")
		b.WriteString("procbeat is licensed under the Apache License, Version 2.0 (LICENSE).\n")
		b.WriteString("This file is generated by `go run ./tools/notice` from the module graph of\n")
	} else {
		b.WriteString("procbeat, built with -tags " + tags + "\nCopyright the procbeat authors.\n\n")
		b.WriteString("procbeat's own code is licensed under the Apache License, Version 2.0\n(LICENSE).\n")
		var elastic []string
		for _, m := range mods {
			if strings.Contains(m.Licence, "Elastic-") {
				elastic = append(elastic, "  "+m.Path+" "+m.Version+" ("+m.Licence+")\n")
			}
		}
		if len(elastic) > 0 {
			b.WriteString("This build also links modules under the Elastic License, whose terms\n")
			b.WriteString("apply to them in this binary (their licence texts are below); the\n")
			b.WriteString("default build of procbeat links none of them:\n\n")
			b.WriteString(strings.Join(elastic, ""))
		}
		b.WriteString("\nThis file is generated by `go run ./tools/notice -tags " + tags + " -o " + AgentNotice + "`\nfrom the module graph of the -tags " + tags + " build of\n")
	}
	b.WriteString("the procbeat binary on " + strings.Join(Platforms, ", ") + ".\n")
	b.WriteString("It lists the third-party modules that binary links, with their licences.\n\n")
	b.WriteString("Summary:\n\n")
	for _, m := range mods {
		fmt.Fprintf(&b, "  %-55s %-38s %s\n", m.Path, m.Version, m.Licence)
	}
	for _, m := range mods {
		b.WriteString("\n" + strings.Repeat("=", 78) + "\n")
		fmt.Fprintf(&b, "Module: %s\nVersion: %s\nLicence: %s\n", m.Path, m.Version, m.Licence)
		b.WriteString(strings.Repeat("-", 78) + "\n")
		fmt.Fprintf(&b, "Contents of %s:\n\n", m.LicenceFile)
		b.Write(normalise(m.LicenceText))
		if m.NoticeText != nil {
			b.WriteString("\n" + strings.Repeat("-", 78) + "\nNOTICE:\n\n")
			b.Write(normalise(m.NoticeText))
		}
	}
	return b.Bytes()
}

// normalise ends text with one newline and uses \n line ends, so the file
// does not depend on how a module's files were written.
func normalise(t []byte) []byte {
	t = bytes.ReplaceAll(t, []byte("\r\n"), []byte("\n"))
	return append(bytes.TrimRight(t, "\n \t"), '\n')
}
