package filedrop

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/collectors"
	"github.com/qualitymon/qualitymon/collectors/collectortest"
)

// Each testdata/<case>/ holds input files, config.yml (the options; dir is
// set by the test), and expected.out (accepted batches as line protocol)
// and/or expected.err (errors of rejected files).
func TestCases(t *testing.T) {
	collectortest.Cases(t, func(t *testing.T, dir, config string) {
		drop := t.TempDir()
		var inputs []string
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			switch e.Name() {
			case "config.yml", "expected.out", "expected.err":
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(drop, e.Name()), data, 0o644); err != nil {
				t.Fatal(err)
			}
			old := collectortest.Now.Add(-time.Hour)
			os.Chtimes(filepath.Join(drop, e.Name()), old, old)
			inputs = append(inputs, e.Name())
		}
		c := newDrop(t, config, drop)
		batches := collectortest.Check(t, c, dir)

		// Ack as the runner does and check where every file went.
		accepted := map[string]bool{}
		for _, b := range batches {
			if err := b.Ack(b.Err); err != nil {
				t.Fatal(err)
			}
			accepted[b.Name] = b.Err == nil
		}
		for _, in := range inputs {
			ok, read := accepted[in]
			switch {
			case !read:
				mustExist(t, filepath.Join(drop, in))
			case ok:
				mustExist(t, filepath.Join(drop, "done", in))
				mustNotExist(t, filepath.Join(drop, in))
			default:
				mustExist(t, filepath.Join(drop, "failed", in))
				rep, err := os.ReadFile(filepath.Join(drop, "failed", in+".errors.txt"))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(rep), "nothing from it was stored") || !strings.Contains(string(rep), in+":") {
					t.Errorf("report of %s:\n%s", in, rep)
				}
			}
		}
		// A second run finds nothing new.
		again, err := c.Collect(context.Background())
		if err != nil || len(again) != 0 {
			t.Fatalf("second run: %d batches, %v", len(again), err)
		}
	})
}

// newDrop builds a drop over dir with the other options given as YAML text.
func newDrop(t *testing.T, opts, dir string) collectors.Collector {
	t.Helper()
	return collectortest.New(t, New, "drop", "dir: "+dir+"\n"+opts)
}

func mustExist(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Stat(p); err != nil {
		t.Error(err)
	}
}

func mustNotExist(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Stat(p); err == nil {
		t.Errorf("%s still exists", p)
	}
}

// Files modified within min_age are left for a later run.
func TestMinAge(t *testing.T) {
	drop := t.TempDir()
	p := filepath.Join(drop, "fresh.csv")
	os.WriteFile(p, []byte("indicator,region,period,value\nfood_sampling_pass_rate,370000,2023,98\n"), 0o644)
	fresh := collectortest.Now.Add(-5 * time.Second)
	os.Chtimes(p, fresh, fresh)
	c := newDrop(t, "min_age: 10s\n", drop)
	if b, err := c.Collect(context.Background()); err != nil || len(b) != 0 {
		t.Fatalf("fresh file read: %d batches, %v", len(b), err)
	}
}

// A file the sink refused stays in place; a name already in done/ gets a
// suffix instead of overwriting.
func TestAckKeepsRefusedAndAvoidsOverwrite(t *testing.T) {
	drop := t.TempDir()
	write := func() {
		p := filepath.Join(drop, "a.csv")
		os.WriteFile(p, []byte("indicator,region,period,value\nfood_sampling_pass_rate,370000,2023,98\n"), 0o644)
		old := collectortest.Now.Add(-time.Hour)
		os.Chtimes(p, old, old)
	}
	write()
	c := newDrop(t, "min_age: 1s\n", drop)
	b, _ := c.Collect(context.Background())
	if len(b) != 1 || b[0].Err != nil {
		t.Fatalf("%+v", b)
	}
	if err := b[0].Ack(os.ErrDeadlineExceeded); err != nil {
		t.Fatal(err)
	}
	mustExist(t, filepath.Join(drop, "a.csv"))
	b, _ = c.Collect(context.Background())
	b[0].Ack(nil)
	write()
	b, _ = c.Collect(context.Background())
	b[0].Ack(nil)
	files, _ := filepath.Glob(filepath.Join(drop, "done", "a*.csv"))
	if len(files) != 2 {
		t.Fatalf("done/ holds %v", files)
	}
}

func TestOptionErrors(t *testing.T) {
	collectortest.OptionErrors(t, New, map[string]string{
		"min_age: 1s\n":           "options.dir: required",
		"dir: x\ndirr: y\n":       "line 2: field dirr not found",
		"dir: x\nmin_age: soon\n": `invalid duration "soon"`,
	})
	if _, err := New("d", nil, collectortest.Deps(t)); err == nil {
		t.Error("no options accepted")
	}
}

func TestMissingDirectory(t *testing.T) {
	c := newDrop(t, "", filepath.Join(t.TempDir(), "nope"))
	if _, err := c.Collect(context.Background()); err == nil || !strings.Contains(err.Error(), "reading drop directory") {
		t.Fatalf("err = %v", err)
	}
}
