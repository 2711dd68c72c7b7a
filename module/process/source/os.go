package source

import (
	"context"
	"fmt"
	"os"
)

// OS is the operating system's file system.
type OS struct{}

// Open opens name without blocking (see openNonBlocking) and refuses
// anything but a regular file.
func (OS) Open(ctx context.Context, name string) (File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A cheap look first: most non-regular paths are refused without
	// being opened at all.
	if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() {
		return nil, &NotRegularError{Path: name, Mode: st.Mode()}
	}
	f, err := openNonBlocking(name)
	if err != nil {
		return nil, err
	}
	// The path may have changed since the Stat: the opened file decides.
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &NotRegularError{Path: name, Mode: st.Mode()}
	}
	return f, nil
}
