package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/qualitymon/qualitymon/internal/version"
)

// commandPaths walks the kong model of app, found by reflection of its
// struct tags: every command and subcommand, so that a command added later is
// covered without editing this test.
func commandPaths(t *testing.T) (paths [][]string, positional map[string]bool) {
	t.Helper()
	var a app
	env := Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	p, err := newParser(&a, &env)
	if err != nil {
		t.Fatal(err)
	}
	positional = map[string]bool{}
	var walk func(n *kong.Node, path []string)
	walk = func(n *kong.Node, path []string) {
		for _, c := range n.Children {
			if c.Type != kong.CommandNode || c.Hidden {
				continue
			}
			p := append(append([]string{}, path...), c.Name)
			paths = append(paths, p)
			positional[strings.Join(p, " ")] = len(c.Positional) > 0
			walk(c, p)
		}
	}
	walk(p.Model.Node, nil)
	return paths, positional
}

// failingReader fails the test's command if it reads standard input.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("help must not read stdin") }

// TestHelpEveryCommand runs -h and --help on the top level and on every
// command: each prints its usage, exits 0 and does nothing else (no output
// beyond the usage, no file created, no stdin read, no server started),
// also with arguments after the flag for a command that takes them
// (`import --help FILE`).
func TestHelpEveryCommand(t *testing.T) {
	paths, positional := commandPaths(t)
	if len(paths) < 12 {
		t.Fatalf("walked %d commands: %v", len(paths), paths)
	}
	file := write(t, "figures.csv", "indicator,region,period,value\nfood_sampling_pass_rate,370000,2020,90\n")
	t.Chdir(t.TempDir())
	paths = append(paths, nil) // the top level
	for _, path := range paths {
		for _, flag := range []string{"--help", "-h"} {
			for _, extra := range [][]string{nil, {file}} {
				if extra != nil && !positional[strings.Join(path, " ")] {
					continue
				}
				args := append(append(append([]string{}, path...), flag), extra...)
				t.Run(strings.Join(args, " "), func(t *testing.T) {
					var out, errb bytes.Buffer
					code := Main(args, Env{Stdin: failingReader{}, Stdout: &out, Stderr: &errb,
						Getenv: func(k string) string { t.Errorf("help read the environment (%s)", k); return "" }})
					want := "Usage: qualitymon"
					if len(path) > 0 {
						want += " " + strings.Join(path, " ")
					}
					if code != 0 || !strings.HasPrefix(out.String(), want) || errb.Len() > 0 {
						t.Fatalf("exit %d, want 0 and usage %q\nstdout:\n%.300s\nstderr:\n%s", code, want, out.String(), errb.String())
					}
					if entries, _ := os.ReadDir("."); len(entries) > 0 {
						t.Fatalf("help created %v", entries)
					}
					// And the parse that Main runs selects nothing to run.
					var a app
					p, err := newParser(&a, &Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
					if err != nil {
						t.Fatal(err)
					}
					if kctx, code, err := parse(p, args); kctx != nil || code != 0 || err != nil {
						t.Fatalf("parse: a command to run (%v), exit %d, error %v", kctx != nil, code, err)
					}
				})
			}
		}
	}
}

func TestVersion(t *testing.T) {
	version.Version, version.Revision, version.BuildDate = "1.2.3", "abc1234", "2026-12-01T00:00:00Z"
	defer func() { version.Version, version.Revision, version.BuildDate = "", "", "" }()
	in := version.Get()
	r := run(t, nil, "--version")
	if r.code != 0 || r.stdout != "qualitymon 1.2.3 (revision abc1234, built 2026-12-01T00:00:00Z, "+in.GoVersion+" "+in.Platform+")\n" {
		t.Fatalf("--version: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = run(t, nil, "status", "--version") // a global flag: anywhere, and nothing runs
	if r.code != 0 || !strings.HasPrefix(r.stdout, "qualitymon 1.2.3 ") {
		t.Fatalf("status --version: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = run(t, nil, "version")
	for _, want := range []string{"qualitymon 1.2.3\n", "revision:   abc1234\n", "build date: 2026-12-01T00:00:00Z\n", "go version: " + in.GoVersion + "\n"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("version lacks %q: %d %q", want, r.code, r.stdout)
		}
	}
	r = run(t, nil, "version", "--format", "json")
	var got version.Info
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got != in {
		t.Fatalf("version --format json: %v %q", err, r.stdout)
	}
}
