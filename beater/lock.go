package beater

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/procbeat/procbeat/monitoring"
)

// A procbeat using path.data holds an exclusive lock on
// <path.data>/procbeat.lock, as Beats do, so that a second process on the
// same data path stops at once instead of overwriting the first one's
// registry. The lock is the operating system's (flock, LockFileEx): it
// goes with the process, so a crash never leaves a lock that blocks. The
// file also holds the holder's pid, for the message a second process
// prints, and for file systems without locks, where the pid's liveness is
// all there is to go on.

// lockFileName is the lock's file in path.data.
const lockFileName = "procbeat.lock"

// errLocked is returned by tryLock when another process holds the lock.
var errLocked = errors.New("locked by another process")

// errNoLocks is returned by tryLock when the file system has no locks.
var errNoLocks = errors.New("file system does not support locks")

// dataLock is a held lock on a data path.
type dataLock struct {
	f    *os.File
	path string
}

// lockDataPath takes the lock on dir or says who holds it.
func lockDataPath(dir string, log monitoring.Logger) (*dataLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("path.data lock: %w", err)
	}
	prev := readPID(f)
	self := os.Getpid()
	lerr := tryLock(f)
	switch {
	case errors.Is(lerr, errLocked):
		f.Close()
		if prev > 0 {
			return nil, fmt.Errorf("path.data %s is in use by another procbeat, pid %d (lock %s): stop it first, or give this one another path.data", dir, prev, path)
		}
		return nil, fmt.Errorf("path.data %s is in use by another procbeat (lock %s): stop it first, or give this one another path.data", dir, path)
	case errors.Is(lerr, errNoLocks):
		if prev > 0 && prev != self && processAlive(prev) {
			f.Close()
			return nil, fmt.Errorf("path.data %s is in use by another procbeat, pid %d, which is running (lock %s, on a file system without locks): stop it first, or give this one another path.data", dir, prev, path)
		}
		log.Warnf("path.data %s: %v; relying on the pid in %s alone", dir, lerr, path)
	case lerr != nil:
		f.Close()
		return nil, fmt.Errorf("path.data lock %s: %w", path, lerr)
	}
	if prev > 0 && prev != self {
		if processAlive(prev) {
			// The lock was free: that pid is another program now.
			log.Infof("path.data lock %s named pid %d, which no longer holds it; taking it over", path, prev)
		} else {
			log.Infof("path.data lock %s was left by pid %d, which is no longer running; taking it over", path, prev)
		}
	}
	if err := writePID(f, self); err != nil {
		_ = unlock(f)
		f.Close()
		return nil, fmt.Errorf("path.data lock %s: %w", path, err)
	}
	return &dataLock{f: f, path: path}, nil
}

// release empties the file (a pid left in it would name a dead process)
// and drops the lock.
func (l *dataLock) release() error {
	if l == nil {
		return nil
	}
	err := l.f.Truncate(0)
	if uerr := unlock(l.f); err == nil {
		err = uerr
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("path.data lock %s: %w", l.path, err)
	}
	return nil
}

// readPID returns the pid the lock file names, 0 when none.
func readPID(f *os.File) int {
	var buf [32]byte
	n, err := f.ReadAt(buf[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(buf[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

func writePID(f *os.File, pid int) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(pid)+"\n"), 0); err != nil {
		return err
	}
	return f.Sync()
}
