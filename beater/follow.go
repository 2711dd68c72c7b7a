package beater

import (
	"errors"
	"io/fs"
	"os"
	"slices"

	"github.com/procbeat/procbeat/module/process/source"
	"github.com/procbeat/procbeat/pipeline"
	"github.com/procbeat/procbeat/registry"
)

// foundFile is a plain file a scan found: its source ID and native
// identity (source.Identity.String(), "" when unknown).
type foundFile struct {
	id, ident string
}

// renames plans the moves of checkpoints that follow files by their
// identity, as Filebeat's native file_identity does: a file found under
// an identity whose checkpoint is kept for another path, and that path
// gone or holding another file now, was renamed (or rotated: a-1 to a-2,
// a to a-1 and a new a). Two paths that exist with one identity are hard
// links: each keeps its own checkpoint. kept is the registry's
// checkpoints by identity, identOf the identity recorded for a source, and
// now the identity of the file at a path that the scan did not find (gone
// when it is not there; an error leaves its checkpoint where it is).
func renames(found []foundFile, kept map[string][]pipeline.Position, identOf func(id string) string,
	now func(path string) (ident string, gone bool, err error)) []registry.Move {
	at := make(map[string]string, len(found))
	for _, f := range found {
		at[f.id] = f.ident
	}
	var moves []registry.Move
	for _, f := range found {
		if f.ident == "" || identOf(f.id) == f.ident {
			continue
		}
		var best *pipeline.Position
		for i, c := range kept[f.ident] {
			if c.Source == f.id || !left(c.Source, f.ident, at, now) {
				continue
			}
			if best == nil || c.Offset > best.Offset || (c.Offset == best.Offset && c.Source < best.Source) {
				best = &kept[f.ident][i]
			}
		}
		if best != nil {
			moves = append(moves, registry.Move{From: best.Source, To: f.id})
		}
	}
	return moves
}

// left says the file of identity ident that src read is no longer at its
// path.
func left(src, ident string, at map[string]string, now func(string) (string, bool, error)) bool {
	if cur, ok := at[src]; ok {
		return cur != ident
	}
	path, ok := source.PathOf(src)
	if !ok {
		return false
	}
	cur, gone, err := now(path)
	return err == nil && (gone || cur != ident)
}

// identityNow is the identity of the file at path now, for renames.
func (r *Runner) identityNow(path string) (ident string, gone bool, err error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", true, nil
	}
	if err != nil {
		return "", false, err
	}
	id, err := r.identityOf(path, st)
	return id.String(), false, err
}

// identityOf is the native identity of the file at path (see
// source.IdentityOf); tests give files identities of their choosing.
func (r *Runner) identityOf(path string, st fs.FileInfo) (source.Identity, error) {
	if r.identify != nil {
		return r.identify(path, st)
	}
	return source.IdentityOf(path, st)
}

// follow moves the checkpoints (and this run's read positions) of the
// files found renamed to their new paths (renames), then records the
// identity of every file found. It returns the sources whose move waits
// for their events in flight to be acknowledged, old paths and new: they
// are neither read nor forgotten until it is made, at a later scan.
func (r *Runner) follow(found []foundFile) (waiting map[string]bool) {
	if r.reg == nil {
		return nil
	}
	var moves []registry.Move
	// Most scans find every file where it was: the registry's
	// checkpoints are gathered by identity only when one is not.
	if slices.ContainsFunc(found, func(f foundFile) bool { return f.ident != "" && r.reg.Identity(f.id) != f.ident }) {
		moves = renames(found, r.reg.Identified(), r.reg.Identity, r.identityNow)
	}
	made := r.reg.Adopt(moves)
	if len(made) < len(moves) {
		waiting = make(map[string]bool, 2*(len(moves)-len(made)))
		done := make(map[registry.Move]bool, len(made))
		for _, m := range made {
			done[m] = true
		}
		for _, m := range moves {
			if !done[m] {
				waiting[m.From], waiting[m.To] = true, true
			}
		}
	}
	r.mu.Lock()
	read := make(map[string]source.Position, len(made))
	for _, m := range made {
		if p, ok := r.read[m.From]; ok {
			read[m.To] = p
		}
		delete(r.read, m.From)
	}
	for _, m := range made {
		if p, ok := read[m.To]; ok {
			r.read[m.To] = p
		} else {
			delete(r.read, m.To) // another file was read there
		}
	}
	r.mu.Unlock()
	for _, m := range made {
		from, _ := source.PathOf(m.From)
		to, _ := source.PathOf(m.To)
		r.log.Infof("%s was renamed to %s (the same file by its identity): it keeps its checkpoint, and only what follows it is read", from, to)
	}
	for _, f := range found {
		if f.ident != "" && !waiting[f.id] {
			r.reg.SetIdentity(f.id, f.ident)
		}
	}
	return waiting
}
