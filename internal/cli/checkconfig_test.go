package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/golden"
)

// Every upload and collector case of internal/config/testdata (first line:
// "# error: …") is refused by check config and by serve with that message,
// naming the file: the two share one check.
func TestCheckConfigAndServeRefuseTheSame(t *testing.T) {
	for f, want := range golden.Cases(t, 30, "../config/testdata/uploads/*.bad.yaml", "../config/testdata/collectors/*.bad.yaml") {
		abs, _ := filepath.Abs(f)
		r := run(t, nil, "check", "config", "-c", f)
		if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.HasPrefix(r.stderr, abs+": ") {
			t.Errorf("check config -c %s: exit %d\n%s\nwant it to contain\n  %s", f, r.code, r.stderr, want)
		}
		r = run(t, nil, "serve", "-c", f, "--listen", "127.0.0.1:0")
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("serve -c %s: exit %d\n%s\nwant it to contain\n  %s", f, r.code, r.stderr, want)
		}
	}
}
