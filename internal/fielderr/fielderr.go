// Package fielderr is the error of an invalid setting, named by its key.
// Each component validates its own section with keys relative to it; the
// owner of the section (the config package for procbeat.yml) moves them
// under the section's path, so every message names a key a user can set.
package fielderr

import (
	"errors"
	"fmt"
)

// Error is an invalid value at Key, a dotted path (list items by index:
// hosts.1) relative to the section that reported it until Under moves it.
type Error struct {
	Key string
	Err error
}

func (e *Error) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error at key with a formatted message.
func New(key, format string, args ...any) error {
	return &Error{Key: key, Err: fmt.Errorf(format, args...)}
}

// Under returns err with the key of every *Error it holds (joined errors
// included) prefixed by section. Other errors are returned unchanged.
func Under(section string, err error) error {
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs := joined.Unwrap()
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = Under(section, e)
		}
		return errors.Join(out...)
	}
	if fe, ok := err.(*Error); ok {
		return &Error{Key: section + "." + fe.Key, Err: fe.Err}
	}
	return err
}
