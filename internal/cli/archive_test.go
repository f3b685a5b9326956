package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/upload"
)

// TestArchiveExtract: `archive extract` writes every original of the
// upload archive, in the day's append-only file and in the old layout
// (one file each), as <date>/<sha256>.<ext>; a damaged record is named on
// stderr with its file and offset, skipped (the next one is still
// written) and makes the exit code 1; --sha256 picks by prefix.
func TestArchiveExtract(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	hexOf := func(b string) string { s := sha256.Sum256([]byte(b)); return hex.EncodeToString(s[:]) }
	files := []string{"indicator,region,period,value\naqi_daily,370200,2024-01-01,51\n", "second\n", "third"}
	at := time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC)
	var day []byte
	for i, f := range files[:2] {
		rec := upload.ArchiveRecord(hexOf(f), ".csv", at, []byte(f))
		if i == 0 {
			rec[len(rec)-3]++ // damaged: its bytes no longer match its SHA-256
		}
		day = append(day, rec...)
	}
	for _, f := range []struct{ path, data string }{
		{filepath.Join(dir, "2026-05-20", "uploads-090000-0a1b2c3d.archive"), string(day)},
		{filepath.Join(dir, "2026-05-19", hexOf(files[2])+".xlsx"), files[2]},
	} {
		os.MkdirAll(filepath.Dir(f.path), 0o750)
		if err := os.WriteFile(f.path, []byte(f.data), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	r := run(t, nil, "archive", "extract", dir, out)
	if r.code != 1 || !strings.Contains(r.stderr, "uploads-090000-0a1b2c3d.archive at byte 0: bytes do not match") || !strings.Contains(r.stdout, "2 originals written") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for name, want := range map[string]string{"2026-05-20/" + hexOf(files[1]) + ".csv": files[1], "2026-05-19/" + hexOf(files[2]) + ".xlsx": files[2]} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v", name, b, err)
		}
	}
	out2 := t.TempDir()
	if r := run(t, nil, "archive", "extract", "--sha256", hexOf(files[2])[:8], dir, out2); r.code != 1 || !strings.Contains(r.stdout, "1 originals written") {
		t.Fatalf("--sha256: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	if ents, _ := os.ReadDir(out2); len(ents) != 1 || ents[0].Name() != "2026-05-19" {
		t.Fatalf("--sha256 wrote %v", ents)
	}
}
