// Package golden compares test output with files committed beside the tests
// (golden files), and rewrites them on request (`go test … -update`).
package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Check compares got with the file at path (a missing file means ""). With
// update set it rewrites the file instead (removing it when got is empty).
func Check(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if got == "" {
			os.Remove(path)
			return
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		want, err = nil, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it after review):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// Cases reads the bad-input cases matching the patterns: each file's first
// line states the error it must give, as "# want: …" or "# error: …". It
// returns file → expected message, and fails the test when a file lacks
// that line or when fewer than min cases are found (a moved folder must not
// silently test nothing).
func Cases(tb testing.TB, min int, patterns ...string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for _, p := range patterns {
		files, err := filepath.Glob(p)
		if err != nil {
			tb.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			want, ok := strings.CutPrefix(strings.TrimSpace(first), "# want: ")
			if !ok {
				want, ok = strings.CutPrefix(strings.TrimSpace(first), "# error: ")
			}
			if !ok {
				tb.Fatalf("%s: the first line must be '# want: <message>' or '# error: <message>'", f)
			}
			out[f] = want
		}
	}
	if len(out) < min {
		tb.Fatalf("only %d cases in %v, want at least %d", len(out), patterns, min)
	}
	return out
}
