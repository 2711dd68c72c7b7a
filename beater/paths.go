package beater

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/procbeat/procbeat/module/process/source"
)

// extensions are the files a directory contributes, per format; archives
// (.zip, .tar.gz, .tgz, .tar, .gz) are walked for every format.
var extensions = map[source.Format][]string{
	source.FormatUnknown: {".evtx", ".xml", ".json", ".ndjson", ".jsonl"},
	source.FormatEVTX:    {".evtx"},
	source.FormatXML:     {".xml"},
	source.FormatJSON:    {".json", ".ndjson", ".jsonl"},
}

func wanted(path string, format source.Format) bool {
	return slices.Contains(extensions[format], strings.ToLower(filepath.Ext(path))) || source.ArchiveKind(path) != ""
}

// walkFS is what expanding paths needs from the file system. Tests inject
// one where a directory cannot be read (root reads every directory).
type walkFS interface {
	Stat(name string) (fs.FileInfo, error)
	ReadDir(name string) ([]fs.DirEntry, error)
}

type osWalkFS struct{}

func (osWalkFS) Stat(name string) (fs.FileInfo, error)      { return os.Stat(name) }
func (osWalkFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// pathProblems receive what expanding paths could not use: errors (an
// unreadable directory or file, a path named on the command line that is
// not a regular file: the run reports them as file errors) and skips (a
// FIFO, socket or device found in a directory under an input's name).
type pathProblems struct {
	errorf func(path string, err error)
	skipf  func(error)
}

// ExpandPaths turns the command line's paths into files: a directory
// stands for the input files below it (by extension, sorted), a pattern
// for its matches, anything else for itself. Only regular files are
// returned. A named path that cannot be found is an error; entries below
// a directory that cannot be used do not stop the walk: they are returned
// joined in the error, after the usable paths.
func ExpandPaths(args []string) ([]string, error) {
	var errs []error
	collect := func(err error) { errs = append(errs, err) }
	paths, err := expandPaths(args, source.FormatUnknown, osWalkFS{},
		pathProblems{errorf: func(_ string, err error) { collect(err) }, skipf: collect})
	if err != nil {
		return paths, err
	}
	return paths, errors.Join(errs...)
}

// ExpandPaths is the package function for a run: entries that cannot be
// used are logged, the unreadable ones counted as file errors in the
// summary, and the walk goes on. The error is for patterns and named paths
// that cannot be found.
func (r *Runner) ExpandPaths(args []string) ([]string, error) {
	return expandPaths(args, source.FormatUnknown, r.walkFS(), r.pathProblems())
}

func (r *Runner) walkFS() walkFS {
	if r.walk == nil {
		return osWalkFS{}
	}
	return r.walk
}

func (r *Runner) pathProblems() pathProblems {
	return pathProblems{errorf: r.fileError, skipf: func(err error) { r.log.Warnf("%v", err) }}
}

// expandPaths is ExpandPaths where directories contribute only the files of
// one format (and archives).
func expandPaths(args []string, format source.Format, fsys walkFS, pp pathProblems) ([]string, error) {
	var out []string
	for _, a := range args {
		matches := []string{a}
		glob := strings.ContainsAny(a, "*?[")
		if glob {
			m, err := filepath.Glob(a)
			if err != nil {
				return out, fmt.Errorf("pattern %q: %w", a, err)
			}
			if len(m) == 0 {
				return out, fmt.Errorf("pattern %q matches no file", a)
			}
			matches = m
		}
		for _, p := range matches {
			st, err := fsys.Stat(p)
			switch {
			case err != nil && glob:
				// A match the pattern found but that cannot be used (a
				// dangling link, a file gone since) is one bad entry of
				// many, as in a directory walk.
				pp.errorf(p, fmt.Errorf("%s: %w", p, unwrapPath(err)))
			case err != nil:
				// A path named on the command line that is not there is a
				// mistake to fix before anything is read.
				return out, err
			case st.Mode().IsRegular():
				out = append(out, p)
			case st.IsDir():
				var found []string
				walkDir(p, format, fsys, pp, &found)
				slices.Sort(found)
				out = append(out, found...)
			default:
				// Named explicitly: the user meant it to be read.
				pp.errorf(p, &source.NotRegularError{Path: p, Mode: st.Mode()})
			}
		}
	}
	return out, nil
}

// walkDir adds the input files below dir to found. Symbolic links to files
// are followed, links to directories are not (no loops); an entry that
// cannot be read is reported and the walk goes on.
func walkDir(dir string, format source.Format, fsys walkFS, pp pathProblems, found *[]string) {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		// ReadDir may still return the entries read before the error.
		pp.errorf(dir, fmt.Errorf("reading directory %s: %w", dir, unwrapPath(err)))
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		mode := e.Type()
		if mode.IsDir() {
			walkDir(p, format, fsys, pp, found)
			continue
		}
		if !wanted(p, format) {
			continue
		}
		if mode&fs.ModeSymlink != 0 {
			st, err := fsys.Stat(p)
			if err != nil {
				pp.errorf(p, fmt.Errorf("%s: %w", p, unwrapPath(err)))
				continue
			}
			if st.IsDir() {
				continue
			}
			mode = st.Mode()
		}
		if !mode.IsRegular() {
			pp.skipf(&source.NotRegularError{Path: p, Mode: mode})
			continue
		}
		*found = append(*found, p)
	}
}

// unwrapPath drops a *fs.PathError's own path, which the message names
// already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
