package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Tmpfs mounts a tmpfs of size bytes at a new directory and unmounts
// it when the test ends: a real file system that a test can fill (full-disk
// tests). Mounting needs root; without it the test is skipped, or fails
// when Required.
func Tmpfs(tb testing.TB, size int) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o750); err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		Missing(tb, fmt.Sprintf("cannot mount a tmpfs (%v): the full-disk test needs root", err))
	}
	tb.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			tb.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// FillDisk writes the file path until its file system is full (ENOSPC)
// and returns; removing the file frees the space again.
func FillDisk(tb testing.TB, path string) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				tb.Fatalf("filling %s: %v", path, err)
			}
			// Fill the last partial block too.
			for _, err := f.Write(buf[:1]); err == nil; _, err = f.Write(buf[:1]) {
			}
			return
		}
	}
}
