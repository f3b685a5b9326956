//go:build !unix

package spool

import "os"

// lockDir only creates the lock file where flock is not available: do not
// run two processes over one spool directory there.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
}

func unlockDir(f *os.File) error {
	if f == nil {
		return nil
	}
	return f.Close()
}
