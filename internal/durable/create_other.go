//go:build !linux

package durable

import "os"

// create writes a new file at path through a temporary file renamed into
// place (the same content replaces an existing file).
func create(path string, data []byte, perm os.FileMode) (exists bool, err error) {
	return false, writeTemp(path, data, perm)
}
