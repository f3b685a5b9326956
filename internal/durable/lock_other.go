//go:build !unix

package durable

import (
	"os"
	"sync"
)

var lockMu sync.Mutex

// Lock excludes the goroutines of this process only where flock is not
// available: do not run two processes over one directory there.
func Lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, err
	}
	lockMu.Lock()
	return func() {
		lockMu.Unlock()
		f.Close()
	}, nil
}
