// Package filetimes reads NTFS file times from a timeline in The Sleuth Kit's
// body format (`fls -r -m C: image > body`, or MFTECmd's --body output), the
// form incident responders keep an image's $MFT in:
//
//	MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime
//
// Times are seconds since 1970 (fractions allowed). A $STANDARD_INFORMATION
// line gives a file's creation time (crtime); the "(<name> ($FILE_NAME)"
// line of the same file gives the times of its name, whose mtime is the last
// change of the name (a rename or a move): Elastic Defend's
// relative_file_name_modify_time. Files copied out of an image lose both, so
// the timeline is their only offline source.
package filetimes

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Times are what the timeline says about one file.
type Times struct {
	Created      time.Time // $STANDARD_INFORMATION creation
	NameModified time.Time // $FILE_NAME modification
}

// Index maps paths (upper case, backslashes, without the drive) to times.
type Index struct {
	times map[string]Times
	// Skipped counts lines that were not body-format lines.
	Skipped int
}

// ErrTooMany is returned when a timeline holds more files than allowed.
var ErrTooMany = errors.New("timeline holds more files than enrich.max_timeline_files")

const fnSuffix = " ($FILE_NAME)"

// Read parses a body file, keeping at most maxFiles files.
func Read(r io.Reader, maxFiles int) (*Index, error) {
	ix := &Index{times: make(map[string]Times)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		key, fn, t, ok := parseLine(sc.Text())
		if !ok {
			ix.Skipped++
			continue
		}
		cur, seen := ix.times[key]
		if !seen && len(ix.times) >= maxFiles {
			return ix, fmt.Errorf("line %d: %w (%d)", line, ErrTooMany, maxFiles)
		}
		if fn {
			cur.NameModified = t.mtime
		} else {
			cur.Created = t.crtime
		}
		ix.times[key] = cur
	}
	if err := sc.Err(); err != nil {
		return ix, fmt.Errorf("line %d: %w", line+1, err)
	}
	return ix, nil
}

type lineTimes struct{ mtime, crtime time.Time }

// parseLine reads one body line; fn is true for a $FILE_NAME line.
func parseLine(s string) (key string, fn bool, t lineTimes, ok bool) {
	f := strings.Split(s, "|")
	if len(f) != 11 {
		return "", false, t, false
	}
	name := f[1]
	if strings.HasSuffix(name, fnSuffix) {
		fn, name = true, strings.TrimSuffix(name, fnSuffix)
	}
	if key = Key(name); key == "" {
		return "", false, t, false
	}
	var err1, err2 error
	t.mtime, err1 = parseTime(f[8])
	t.crtime, err2 = parseTime(f[10])
	if err1 != nil || err2 != nil {
		return "", false, t, false
	}
	return key, fn, t, true
}

func parseTime(s string) (time.Time, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || v > 1e11 || math.IsNaN(v) {
		return time.Time{}, errors.New("bad time")
	}
	sec, frac := math.Modf(v)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// Key normalises a Windows or timeline path: drive letter and leading
// separators dropped, slashes made backslashes, upper case.
func Key(p string) string { return string(appendKey(nil, p)) }

// appendKey appends Key(p) to dst: byte by byte for ASCII, so that a
// lookup (one per process start) can build its key on the stack.
func appendKey(dst []byte, p string) []byte {
	if len(p) >= 2 && p[1] == ':' {
		p = p[2:]
	}
	for i := 0; i < len(p); i++ {
		if p[i] >= utf8.RuneSelf {
			p = strings.ToUpper(strings.ReplaceAll(p, "/", `\`))
			return append(dst, strings.TrimLeft(p, `\`)...)
		}
	}
	start := len(dst)
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '/':
			c = '\\'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		if c == '\\' && len(dst) == start {
			continue // leading separators
		}
		dst = append(dst, c)
	}
	return dst
}

// Lookup returns the times of a file.
func (ix *Index) Lookup(winPath string) (Times, bool) {
	if ix == nil {
		return Times{}, false
	}
	var buf [256]byte
	t, ok := ix.times[string(appendKey(buf[:0], winPath))]
	return t, ok
}

// Len is the number of files.
func (ix *Index) Len() int { return len(ix.times) }
