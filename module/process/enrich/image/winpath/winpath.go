// Package winpath finds the file a Windows executable path names: on the live
// file system of a Windows host, or inside a mounted disk image or extracted
// triage collection, where `C:\Windows\System32\cmd.exe` becomes
// `<root>/Windows/System32/cmd.exe` matched case-insensitively, as NTFS
// names are. Paths that would leave the root (`..`, symlinks pointing out)
// are refused: the root is opened with os.Root, which enforces it.
package winpath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
)

// Opener opens the file a Windows path names, and directories as file
// systems (to walk the catalogs).
type Opener interface {
	Open(winPath string) (*os.File, error)
	Dir(winPath string) (fs.FS, error)
}

// Errors a path can be refused with.
var (
	ErrNotAbsolute = errors.New("not an absolute drive path")
	ErrEscapes     = errors.New("path leaves the image root")
	ErrNoDrive     = errors.New("drive not mapped")
)

// Split parses a Windows path into its drive letter (upper case) and its
// components, dropping the `\\?\` and `\??\` prefixes the kernel and some
// events add. `.` and `..` components are refused rather than resolved: an
// executable path from an event never needs them, and resolving them against
// a root is how paths escape it.
func Split(winPath string) (drive byte, parts []string, err error) {
	p := winPath
	for _, prefix := range []string{`\\?\`, `\??\`, `\\.\`} {
		if strings.HasPrefix(p, prefix) {
			p = p[len(prefix):]
			break
		}
	}
	if len(p) < 3 || p[1] != ':' || (p[2] != '\\' && p[2] != '/') {
		return 0, nil, fmt.Errorf("%q: %w", winPath, ErrNotAbsolute)
	}
	d := p[0] &^ 0x20
	if d < 'A' || d > 'Z' {
		return 0, nil, fmt.Errorf("%q: %w", winPath, ErrNotAbsolute)
	}
	for _, c := range strings.FieldsFunc(p[3:], func(r rune) bool { return r == '\\' || r == '/' }) {
		if c == "." || c == ".." || strings.ContainsRune(c, 0) {
			return 0, nil, fmt.Errorf("%q: %w", winPath, ErrEscapes)
		}
		parts = append(parts, c)
	}
	if len(parts) == 0 {
		return 0, nil, fmt.Errorf("%q: %w", winPath, ErrNotAbsolute)
	}
	return d, parts, nil
}

// Image maps drive letters to directories holding each volume's files.
// It is safe for concurrent use.
type Image struct {
	drives map[byte]*os.Root

	mu       sync.Mutex
	resolved map[string]string // Windows path (upper-cased) → path inside the root
	max      int
}

// NewImage maps drive C: to root and each further drive letter in drives to
// its directory (relative directories are taken inside root: a triage
// collection often holds `C/` and `D/` side by side).
func NewImage(root string, drives map[string]string) (*Image, error) {
	img := &Image{drives: make(map[byte]*os.Root), resolved: make(map[string]string), max: 16384}
	dirs := map[byte]string{'C': root}
	for k, v := range drives {
		k = strings.TrimSuffix(strings.TrimSpace(k), ":")
		if len(k) != 1 || (k[0]&^0x20) < 'A' || (k[0]&^0x20) > 'Z' {
			return nil, fmt.Errorf("enrich.drives: %q is not a drive letter", k)
		}
		if !strings.HasPrefix(v, "/") && !isWindowsAbs(v) {
			v = root + string(os.PathSeparator) + v
		}
		dirs[k[0]&^0x20] = v
	}
	for d, dir := range dirs {
		r, err := os.OpenRoot(dir)
		if err != nil {
			img.Close()
			return nil, fmt.Errorf("enrich: drive %c: %w", d, err)
		}
		img.drives[d] = r
	}
	return img, nil
}

func isWindowsAbs(p string) bool {
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

// Close releases the roots.
func (img *Image) Close() error {
	for _, r := range img.drives {
		r.Close()
	}
	return nil
}

// locate splits winPath and finds the root its drive letter maps to.
func (img *Image) locate(winPath string) (*os.Root, []string, error) {
	drive, parts, err := Split(winPath)
	if err != nil {
		return nil, nil, err
	}
	root := img.drives[drive]
	if root == nil {
		return nil, nil, fmt.Errorf("%q: %w", winPath, ErrNoDrive)
	}
	return root, parts, nil
}

// Open opens the file winPath names inside the image.
func (img *Image) Open(winPath string) (*os.File, error) {
	root, parts, err := img.locate(winPath)
	if err != nil {
		return nil, err
	}
	key := strings.ToUpper(winPath)
	img.mu.Lock()
	rel, ok := img.resolved[key]
	img.mu.Unlock()
	if ok {
		if f, err := root.Open(rel); err == nil {
			return f, nil
		}
	}
	rel, err = resolve(root, parts)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", winPath, err)
	}
	f, err := root.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", winPath, mapEscape(err))
	}
	img.mu.Lock()
	if len(img.resolved) >= img.max {
		clear(img.resolved) // a bound, not a cache policy: it only saves directory scans
	}
	img.resolved[key] = rel
	img.mu.Unlock()
	return f, nil
}

// Dir returns the directory winPath names inside the image as a file
// system confined to it. The directory stays open for the life of the
// process: it is meant for the catalogs, loaded once.
func (img *Image) Dir(winPath string) (fs.FS, error) {
	root, parts, err := img.locate(winPath)
	if err != nil {
		return nil, err
	}
	rel, err := resolve(root, parts)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", winPath, err)
	}
	sub, err := root.OpenRoot(rel)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", winPath, mapEscape(err))
	}
	return sub.FS(), nil
}

// resolve finds each component, exactly first and else by a
// case-insensitive scan of its directory.
func resolve(root *os.Root, parts []string) (string, error) {
	rel := "."
	for _, c := range parts {
		next := path.Join(rel, c)
		if _, err := root.Lstat(next); err == nil {
			rel = next
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", mapEscape(err)
		}
		dir, err := root.Open(rel)
		if err != nil {
			return "", mapEscape(err)
		}
		found := ""
		for found == "" {
			ents, err := dir.ReadDir(256)
			for _, e := range ents {
				if strings.EqualFold(e.Name(), c) {
					found = e.Name()
					break
				}
			}
			if err != nil {
				break
			}
		}
		dir.Close()
		if found == "" {
			return "", fs.ErrNotExist
		}
		rel = path.Join(rel, found)
	}
	return rel, nil
}

// mapEscape turns os.Root's refusal into ErrEscapes.
func mapEscape(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err != nil && strings.Contains(pe.Err.Error(), "escapes") {
		return fmt.Errorf("%w: %v", ErrEscapes, err)
	}
	return err
}

// Live opens paths on the file system of the Windows host procbeat runs on.
type Live struct{}

// Open opens winPath as it is, after the same checks as in an image.
func (Live) Open(winPath string) (*os.File, error) {
	drive, parts, err := Split(winPath)
	if err != nil {
		return nil, err
	}
	return os.Open(string(drive) + `:\` + strings.Join(parts, `\`))
}

// Dir returns the directory as a file system.
func (Live) Dir(winPath string) (fs.FS, error) {
	drive, parts, err := Split(winPath)
	if err != nil {
		return nil, err
	}
	return os.DirFS(string(drive) + `:\` + strings.Join(parts, `\`)), nil
}
