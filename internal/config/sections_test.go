package config

import (
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/golden"
)

// badCases returns every testdata/{uploads,collectors}/*.bad.yaml with the
// error its first line ("# error: …") says the config check gives. The same
// files are run through check config and serve by internal/cli.
func badCases(t *testing.T) map[string]string {
	t.Helper()
	return golden.Cases(t, 0, "testdata/uploads/*.bad.yaml", "testdata/collectors/*.bad.yaml")
}

// What the text alone tells, Load refuses with the case's message, naming the
// file on every line; the rest (regions, indicators, collector types and
// options) is left to the check against the tables and factories.
func TestSectionBadConfigs(t *testing.T) {
	cases := badCases(t)
	if len(cases) < 30 {
		t.Fatalf("only %d upload and collector cases", len(cases))
	}
	refused := 0
	for f, want := range cases {
		_, err := LoadFile(f, nil)
		if err == nil {
			continue
		}
		refused++
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error\n  %v\nwant it to contain\n  %s", f, err, want)
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, f+": ") {
				t.Errorf("%s: %q does not name the file", f, line)
			}
		}
	}
	if refused < 20 {
		t.Errorf("Load refused only %d cases", refused)
	}
}

// Every problem of a file is reported at once, each with its line and key.
func TestAllErrorsAtOnce(t *testing.T) {
	_, err := Load([]byte("influx:\n  urll: x\nlisten: nope\nuploads:\n  max_bytes: lots\ncollectors:\n  - {name: a, type: t, schedule: '@daily', timeout: soon}\n"), nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`line 2: influx: unknown field "urll" (want url, token, org, bucket)`,
		`line 5: uploads.max_bytes: want a whole number, not "lots"`,
		`collector "a": line 7: invalid duration "soon" (want e.g. 90d, 36h), at key timeout`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error\n%v\nwant it to contain\n  %s", err, want)
		}
	}
}
