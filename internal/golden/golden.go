// Package golden compares test output with files committed beside the tests
// (golden files), and rewrites them on request (`go test … -update`).
package golden

import (
	"os"
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
