// Package decodetest holds checks the text decoders' tests (xmlevent,
// jsonevent) share: both must say the same of an export cut short.
package decodetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/procbeat/procbeat/module/process/decode"
)

// Cut is an export, cut somewhere or not, and what a decoder must make of
// it.
type Cut struct {
	Name, In string
	Recs     int // records delivered
	// Msg is how the one error the input gives begins; "" when it
	// gives none.
	Msg string
	// Truncated says that error matches decode.ErrTruncated (the input
	// ends inside its container, not inside a record).
	Truncated bool
}

// CheckCuts reads each case with the decoder open returns for its input.
func CheckCuts(t *testing.T, cases []Cut, open func(in string) decode.Reader) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			d := open(c.In)
			n := 0
			for d.Next() {
				n++
			}
			if d.Err() != nil || n != c.Recs {
				t.Fatalf("%d records (want %d), fatal %v, errors %v", n, c.Recs, d.Err(), d.Errors())
			}
			errs := d.Errors()
			switch {
			case c.Msg == "" && len(errs) != 0:
				t.Fatalf("errors %v", errs)
			case c.Msg == "":
			case len(errs) != 1 || d.ErrorCount() != 1 || !strings.HasPrefix(errs[0].Error(), c.Msg):
				t.Fatalf("errors %v, want one starting %q", errs, c.Msg)
			case errors.Is(errs[0], decode.ErrTruncated) != c.Truncated:
				t.Errorf("%v: errors.Is(ErrTruncated) = %v", errs[0], !c.Truncated)
			}
		})
	}
}
