package upload

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/qualitymon/qualitymon/internal/testenv"
)

// TestArchiveDiskFull: on a full disk an original is not archived (an
// error, the upload refused), the record cut off leaves nothing half
// written (every original archived before reads back, no damage), and once
// there is room again archiving goes on by itself.
func TestArchiveDiskFull(t *testing.T) {
	dir := testenv.Tmpfs(t, 1<<20)
	filler := filepath.Join(dir, "filler")
	a := newArchiver(filepath.Join(dir, "archive"), now)
	defer a.close()
	if err := a.archive(a.path(now), sumOf([]byte("first")), ".csv", now, []byte("first")); err != nil {
		t.Fatal(err)
	}
	// Fill the disk but for 40 KB.
	if err := os.WriteFile(filler, make([]byte, 1<<20-40<<10-8<<10), 0o640); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	var kept [][]byte
	var full error
	for i := range 100 {
		data := bytes.Repeat([]byte{byte('a' + i%26)}, 7000+i)
		if full = a.archive(a.path(now), sumOf(data), ".csv", now, data); full != nil {
			break
		}
		kept = append(kept, data)
	}
	if !errors.Is(full, syscall.ENOSPC) {
		t.Fatalf("archiving on a full disk: %v, want no space left", full)
	}
	got, damage := readAll(t, filepath.Join(dir, "archive"))
	if len(damage) > 0 || len(got) != len(kept)+1 {
		t.Fatalf("after the disk filled up: %d originals (want %d), damage %v", len(got), len(kept)+1, damage)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	data := []byte("after")
	if err := a.archive(a.path(now), sumOf(data), ".csv", now, data); err != nil {
		t.Fatalf("with room again: %v", err)
	}
	if got, damage := readAll(t, filepath.Join(dir, "archive")); len(damage) > 0 || got[sumOf(data)] == nil {
		t.Fatalf("after room again: damage %v", damage)
	}
}
