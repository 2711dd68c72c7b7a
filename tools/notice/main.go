// Command notice writes NOTICE.txt from the module graph: every module
// linked into the procbeat binary on the platforms procbeat ships for, with
// its version, its licence as identified from its licence file, the licence
// text and the module's own NOTICE file. It refuses modules whose licence it
// cannot identify, and, for the default build, modules under the Elastic
// License, so that a plain `go build ./cmd/procbeat` stays Apache-2.0
// compatible.
//
//	go run ./tools/notice            # rewrite NOTICE.txt
//	go run ./tools/notice -check     # fail when NOTICE.txt is stale
//	go run ./tools/notice -tags agent -o NOTICE-agent.txt   # the agent build's
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("o", "NOTICE.txt", "file to write")
	check := flag.Bool("check", false, "compare with the file instead of writing it")
	tags := flag.String("tags", "", "build tags of the build to describe (the default build has none)")
	flag.Parse()
	if err := run(*out, *check, *tags); err != nil {
		fmt.Fprintln(os.Stderr, "notice:", err)
		os.Exit(1)
	}
}

func run(out string, check bool, tags string) error {
	mods, err := Modules(".", tags, Platforms)
	if err != nil {
		return err
	}
	if tags == "" {
		if err := NoElasticLicensed(mods); err != nil {
			return err
		}
	}
	text := Render(mods, tags)
	if !check {
		return os.WriteFile(out, text, 0o644)
	}
	old, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	if !bytes.Equal(old, text) {
		return fmt.Errorf("%s is stale: run `go run ./tools/notice` and commit the result", out)
	}
	return nil
}
