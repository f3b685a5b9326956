package durable

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// create writes a new file at path that appears only once written and
// fsynced: an unnamed file in the directory (O_TMPFILE), linked to its
// name. One change of the directory instead of two (create, rename), which
// matters when many uploads land in one directory at once. An existing
// file is left as it is (exists). Where O_TMPFILE or /proc is missing, a
// temporary file renamed into place.
func create(path string, data []byte, perm os.FileMode) (exists bool, err error) {
	fd, err := unix.Open(filepath.Dir(path), unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return false, writeTemp(path, data, perm)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return false, err
	}
	if err := f.Sync(); err != nil {
		return false, err
	}
	err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, unix.EEXIST):
		return true, nil
	case errors.Is(err, unix.ENOENT): // no /proc
		return false, writeTemp(path, data, perm)
	}
	return false, &os.LinkError{Op: "link", Old: f.Name(), New: path, Err: err}
}
