package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// RequireVar is the variable that, set to 1, makes a missing tool, server or
// data set fail the test instead of skipping it (as CI=true does).
const RequireVar = "QUALITYMON_REQUIRE_SERVERS"

// Required reports whether a test fails rather than skips when a tool, a
// server or the ../shared data is missing: CI=true or
// QUALITYMON_REQUIRE_SERVERS=1 (the older QUALITYMON_REQUIRE_INFLUX=1 and
// QUALITYMON_REQUIRE_PROMETHEUS=1 are still accepted).
func Required() bool {
	if os.Getenv("CI") == "true" {
		return true
	}
	for _, v := range []string{RequireVar, "QUALITYMON_REQUIRE_INFLUX", "QUALITYMON_REQUIRE_PROMETHEUS"} {
		if os.Getenv(v) == "1" {
			return true
		}
	}
	return false
}

// Missing ends the test because something it needs is missing: it fails
// when Required, else it is skipped. why says what is missing and how to get
// it.
func Missing(tb testing.TB, why string) {
	tb.Helper()
	if Required() {
		tb.Fatal(why)
	}
	tb.Skip(why + "\n(skipped; set CI=true or " + RequireVar + "=1 to fail instead)")
}

// Main runs the tests of a package, then Cleanup, and exits:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// RepoRoot returns the directory holding go.mod, walking up from the working
// directory (a test runs in its package's directory).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := repoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// SharedData returns the directory ../shared/<elem...> beside the
// repository (data that is not part of it, such as ../shared/data/aqi), or
// calls Missing when it does not exist.
func SharedData(tb testing.TB, elem ...string) string {
	tb.Helper()
	dir := filepath.Join(append([]string{RepoRoot(tb), "..", "shared"}, elem...)...)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		Missing(tb, fmt.Sprintf("testenv: %s is not there (the ../shared data beside the repository)", dir))
	}
	return dir
}
