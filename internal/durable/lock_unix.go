//go:build unix

package durable

import (
	"fmt"
	"os"
	"syscall"
)

// Lock waits for an exclusive flock on path (created if missing) and
// returns the function that releases it. Each call opens the file anew, so
// that goroutines of one process exclude each other as processes do; the
// kernel releases the lock of a process that dies.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
