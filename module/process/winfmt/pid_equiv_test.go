package winfmt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// parsePIDReference and parseHexPIDReference are ParsePID and ParseHexPID
// as they were before they read short ids by hand (issue 17).
func parsePIDReference(s string) (uint32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errEmpty
	}
	var v uint64
	var err error
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		v, err = strconv.ParseUint(s[2:], 16, 32)
	} else {
		v, err = strconv.ParseUint(s, 10, 32)
	}
	if err != nil {
		return 0, fmt.Errorf("process id %q: %w", s, err)
	}
	return uint32(v), nil
}

func parseHexPIDReference(s string) (uint32, error) {
	s = strings.TrimSpace(s)
	t := s
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		t = t[2:]
	}
	if t == "" {
		return 0, errEmpty
	}
	v, err := strconv.ParseUint(t, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("hex process id %q: %w", s, err)
	}
	return uint32(v), nil
}

// FuzzParsePIDIsReference: ParsePID and ParseHexPID give the values and
// the error texts (and wrapped errors) of the reference for every input.
func FuzzParsePIDIsReference(f *testing.F) {
	for _, s := range []string{"", " ", "0", "7256", " 7256 ", "0x1c58", "0X1C58", "1c58", "999999999", "4294967295",
		"4294967296", "0xffffffff", "0x100000000", "ffffffff", "fffffffff", "-1", "+1", "1_000", "0x", "0x_1", "１２", "12a", "\t42\n", "00000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fn := range []struct {
			name      string
			fast, ref func(string) (uint32, error)
		}{{"ParsePID", ParsePID, parsePIDReference}, {"ParseHexPID", ParseHexPID, parseHexPIDReference}} {
			got, gerr := fn.fast(s)
			want, werr := fn.ref(s)
			if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Fatalf("%s(%q) = %d, %v; want %d, %v", fn.name, s, got, gerr, want, werr)
			}
			var gn, wn *strconv.NumError
			if errors.As(gerr, &gn) != errors.As(werr, &wn) || errors.Is(gerr, errEmpty) != errors.Is(werr, errEmpty) {
				t.Fatalf("%s(%q): error %#v, want %#v", fn.name, s, gerr, werr)
			}
		}
	})
}
