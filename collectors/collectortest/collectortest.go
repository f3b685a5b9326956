// Package collectortest helps test collectors: a validator over the shipped
// catalogue and region table with a fixed clock, collectors built from YAML
// options, a canonical dump of batches as line protocol for golden files, and
// the runner of the golden-file cases under a collector's testdata/.
package collectortest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/internal/golden"
	"github.com/qualitymon/qualitymon/internal/ingest"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/store"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite expected.out and expected.err")

// Now is the fixed clock of Validator: 2026-11-22 00:00 UTC.
var Now = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// Validator validates against targets/catalogue and targets/regions.yaml,
// with Now as the clock.
func Validator(tb testing.TB) *ingest.Validator {
	tb.Helper()
	cat, regs := testenv.Targets(tb)
	return &ingest.Validator{Catalog: cat, Regions: regs, Now: func() time.Time { return Now }}
}

// Deps are collector dependencies with Validator, Now and an environment
// of the given pairs.
func Deps(tb testing.TB, env ...string) collectors.Deps {
	m := map[string]string{}
	for i := 0; i+1 < len(env); i += 2 {
		m[env[i]] = env[i+1]
	}
	return collectors.Deps{Validator: Validator(tb), Now: func() time.Time { return Now }, Getenv: func(k string) string { return m[k] }}
}

// Dump renders accepted batches as line protocol (revision 0, reported at
// Now), each preceded by a comment naming the batch, and the errors of
// rejected batches one per line, as FILE:ROW:COLUMN: message.
func Dump(batches []collectors.Batch) (out, errs string) {
	var o, e strings.Builder
	for _, b := range batches {
		if b.Err != nil {
			var es ingest.Errors
			var one *ingest.Error
			switch {
			case errors.As(b.Err, &es):
				for _, x := range es {
					fmt.Fprintln(&e, x.Error())
				}
			case errors.As(b.Err, &one):
				fmt.Fprintln(&e, one.Error())
			default:
				fmt.Fprintf(&e, "%s: %v\n", b.Name, b.Err)
			}
			continue
		}
		fmt.Fprintf(&o, "# %s\n", b.Name)
		for i := range b.Samples {
			if n := b.Samples[i].Note; n != "" {
				fmt.Fprintf(&o, "# note: %s\n", n)
			}
			var lb strings.Builder
			store.ObservationLine(&lb, &b.Samples[i], 0, Now)
			o.WriteString(lb.String())
			o.WriteByte('\n')
		}
	}
	return o.String(), e.String()
}

// New builds a collector named name with factory f from options given as
// YAML text, with Deps(tb, env...), failing the test on error.
func New(tb testing.TB, f collectors.Factory, name, options string, env ...string) collectors.Collector {
	tb.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(options), &n); err != nil {
		tb.Fatal(err)
	}
	c, err := f(name, n.Content[0], Deps(tb, env...))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// OptionErrors checks that f rejects each options text of cases with an
// error containing the text it maps to.
func OptionErrors(t *testing.T, f collectors.Factory, cases map[string]string) {
	t.Helper()
	for in, want := range cases {
		var n yaml.Node
		yaml.Unmarshal([]byte(in), &n)
		_, err := f("test", n.Content[0], Deps(t))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in, err, want)
		}
	}
}

// Cases runs run as a subtest, named after the case, for every
// testdata/<case>/ holding a config.yml, with the case directory and the
// text of its config.yml. It fails when there is no case.
func Cases(t *testing.T, run func(t *testing.T, dir, config string)) {
	t.Helper()
	cfgs, err := filepath.Glob("testdata/*/config.yml")
	if err != nil || len(cfgs) == 0 {
		t.Fatal("no cases", err)
	}
	for _, cfg := range cfgs {
		dir := filepath.Dir(cfg)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			run(t, dir, string(data))
		})
	}
}

// Check collects once with c, failing the test on error, compares the Dump
// of the batches with expected.out and expected.err in dir (go test -update
// rewrites them) and returns the batches. replace are old, new pairs of text
// replaced in the dump first, for what differs between runs (a server's
// address).
func Check(t *testing.T, c collectors.Collector, dir string, replace ...string) []collectors.Batch {
	t.Helper()
	b, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, errs := Dump(b)
	r := strings.NewReplacer(replace...)
	golden.Check(t, filepath.Join(dir, "expected.out"), r.Replace(out), *update)
	golden.Check(t, filepath.Join(dir, "expected.err"), r.Replace(errs), *update)
	return b
}

// Valid is the invariant of a collector's fuzz test over what v made of an
// input: a rejected input (err set) returns no observations, and every
// accepted observation is in its indicator's range.
func Valid(t *testing.T, v *ingest.Validator, got []observation.Observation, err error) {
	t.Helper()
	if err != nil && got != nil {
		t.Fatal("rejected input returned observations")
	}
	for _, o := range got {
		ind, _ := v.Catalog.Get(o.Indicator)
		if !ind.InRange(o.Value) {
			t.Fatalf("accepted %+v", o)
		}
	}
}
