package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/procbeat/procbeat/pipeline"
)

// The registry file is a one-line header followed by a JSON payload:
//
//	procbeat-registry 2 sha256:<hex of payload> <payload length>\n
//	{"positions":[{"source":...,"offset":...,"check":...,"bookmark":...}],"identities":{"<source>":"<identity>"},"read":{"<source>":"<state>"},"extra":"<base64>"}
//
// The header lets a torn or bit-flipped file be told from a valid one
// before any of it is trusted.
//
// Version 2 positions are the sources' own (a byte offset, a physical EVTX
// place and its check). Version 1 positions were the highest EVTX record id
// or a count of text records; they cannot be turned into version 2
// positions, so a version 1 file loads with its positions dropped (State.
// Dropped counts them; Open logs it) and its extra state kept: the sources
// are read again from their start, never skipped on a stale number.
const (
	magic          = "procbeat-registry"
	CurrentVersion = 2
)

// ErrCorrupt is matched (errors.Is) by every error reporting a registry file
// that cannot be trusted.
var ErrCorrupt = errors.New("registry corrupt")

// CorruptError describes a registry file that failed validation.
type CorruptError struct {
	Path   string
	Reason string
}

func (e *CorruptError) Error() string {
	if e.Path == "" {
		return "registry corrupt: " + e.Reason
	}
	return fmt.Sprintf("registry %s corrupt: %s", e.Path, e.Reason)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// VersionError reports a file written by a newer procbeat; it is not
// treated as corruption, so it is never moved aside or overwritten.
type VersionError struct {
	Path    string
	Version int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("registry %s: version %d is newer than supported version %d", e.Path, e.Version, CurrentVersion)
}

// State is the registry's durable content.
type State struct {
	Positions []pipeline.Position `json:"positions"`
	// Identities are the native identities of the files whose positions
	// these are, by source (see Registry.SetIdentity). A file written
	// before they were kept has none; older procbeats ignore them.
	Identities map[string]string `json:"identities,omitempty"`
	// Reads are what files were when last read to their end, every event
	// of them acknowledged (see Registry.SetRead), by source.
	Reads map[string]string `json:"read,omitempty"`
	Extra []byte            `json:"extra,omitempty"`
	// Version is the format version the file was written with, and
	// Dropped the positions of an older version that were not kept.
	Version int `json:"-"`
	Dropped int `json:"-"`
}

// Encode renders st in the registry file format.
func Encode(st State) ([]byte, error) {
	payload, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding registry: %w", err)
	}
	sum := sha256.Sum256(payload)
	out := make([]byte, 0, len(payload)+128)
	out = append(out, magic...)
	out = append(out, ' ')
	out = strconv.AppendInt(out, CurrentVersion, 10)
	out = append(out, " sha256:"...)
	out = hex.AppendEncode(out, sum[:])
	out = append(out, ' ')
	out = strconv.AppendInt(out, int64(len(payload)), 10)
	out = append(out, '\n')
	out = append(out, payload...)
	return out, nil
}

// Decode validates and parses a registry file. Errors are *CorruptError or
// *VersionError (with an empty Path).
func Decode(data []byte) (State, error) {
	var st State
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		return st, &CorruptError{Reason: fmt.Sprintf("no header line in %d bytes", len(data))}
	}
	f := strings.Fields(string(data[:nl]))
	if len(f) != 4 || f[0] != magic {
		return st, &CorruptError{Reason: fmt.Sprintf("bad header %q", truncate(data[:nl], 80))}
	}
	ver, err := strconv.Atoi(f[1])
	if err != nil || ver < 1 {
		return st, &CorruptError{Reason: fmt.Sprintf("bad version %q", f[1])}
	}
	if ver > CurrentVersion {
		return st, &VersionError{Version: ver}
	}
	want, ok := strings.CutPrefix(f[2], "sha256:")
	if !ok || len(want) != 2*sha256.Size {
		return st, &CorruptError{Reason: fmt.Sprintf("bad checksum field %q", f[2])}
	}
	n, err := strconv.Atoi(f[3])
	payload := data[nl+1:]
	if err != nil || n != len(payload) {
		return st, &CorruptError{Reason: fmt.Sprintf("payload is %d bytes, header says %s", len(payload), f[3])}
	}
	sum := sha256.Sum256(payload)
	if hex.EncodeToString(sum[:]) != want {
		return st, &CorruptError{Reason: "checksum mismatch"}
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return st, &CorruptError{Reason: fmt.Sprintf("payload: %v", err)}
	}
	st.Version = ver
	if ver < 2 {
		st.Dropped, st.Positions = len(st.Positions), nil
	}
	seen := make(map[string]struct{}, len(st.Positions))
	for i, p := range st.Positions {
		if _, dup := seen[p.Source]; dup {
			return st, &CorruptError{Reason: fmt.Sprintf("position %d: duplicate source %q", i, p.Source)}
		}
		seen[p.Source] = struct{}{}
	}
	return st, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
