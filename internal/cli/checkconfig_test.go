package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every upload and collector case of internal/config/testdata (first line:
// "# error: …") is refused by check config and by serve with that message,
// naming the file: the two share one check.
func TestCheckConfigAndServeRefuseTheSame(t *testing.T) {
	uploads, _ := filepath.Glob("../config/testdata/uploads/*.bad.yaml")
	cols, _ := filepath.Glob("../config/testdata/collectors/*.bad.yaml")
	files := append(uploads, cols...)
	if len(files) < 30 {
		t.Fatalf("only %d cases", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(data), "\n")
		want, ok := strings.CutPrefix(first, "# error: ")
		if !ok {
			t.Fatalf("%s: first line must be # error: …", f)
		}
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
