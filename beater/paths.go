package beater

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/procbeat/procbeat/module/process/source"
)

// extensions are the files a directory contributes, per format.
var extensions = map[source.Format][]string{
	source.FormatUnknown: {".evtx", ".xml", ".json", ".ndjson", ".jsonl"},
	source.FormatEVTX:    {".evtx"},
	source.FormatXML:     {".xml"},
	source.FormatJSON:    {".json", ".ndjson", ".jsonl"},
}

// ExpandPaths turns the command line's paths into files: a directory
// stands for the input files below it (by extension, sorted), a pattern
// for its matches, anything else for itself.
func ExpandPaths(args []string) ([]string, error) { return expandPaths(args, source.FormatUnknown) }

// expandPaths is ExpandPaths where directories contribute only the files of
// one format.
func expandPaths(args []string, format source.Format) ([]string, error) {
	inputExtensions := extensions[format]
	var out []string
	for _, a := range args {
		matches := []string{a}
		if strings.ContainsAny(a, "*?[") {
			m, err := filepath.Glob(a)
			if err != nil {
				return nil, fmt.Errorf("pattern %q: %w", a, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("pattern %q matches no file", a)
			}
			matches = m
		}
		for _, p := range matches {
			st, err := os.Stat(p)
			if err != nil {
				return nil, err
			}
			if !st.IsDir() {
				out = append(out, p)
				continue
			}
			var found []string
			err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && slices.Contains(inputExtensions, strings.ToLower(filepath.Ext(path))) {
					found = append(found, path)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			slices.Sort(found)
			out = append(out, found...)
		}
	}
	return out, nil
}
