package catalog_test

import (
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/targets"
)

// TestTrackedIndicatorsDescribed: every indicator a plan tracks (its own or
// the average it reports) has a definition, a method, a source agency and
// a reference, in Chinese.
func TestTrackedIndicatorsDescribed(t *testing.T) {
	set, err := plan.LoadDir(targets.FS, targets.Dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tg := range set.Tracked("") {
		ids := []string{tg.Indicator}
		if tg.Average != nil && tg.Average.Reported != "" {
			ids = append(ids, tg.Average.Reported)
		}
		for _, id := range ids {
			ind, _ := set.Catalog.Get(id)
			if miss := ind.Described(); len(miss) > 0 {
				t.Errorf("%s (%s): lacks %v", id, tg.Key(), miss)
			}
			for field, v := range map[string]string{"definition": ind.Definition, "method": ind.Method, "source": ind.Source, "reference": ind.Reference} {
				if !hasHan(v) {
					t.Errorf("%s: %s %q is not Chinese", id, field, v)
				}
			}
			n++
		}
	}
	if n < 100 {
		t.Errorf("only %d tracked indicator uses checked", n)
	}
}

// TestUndescribedRefused: the shipped targets with one tracked indicator's
// definition removed are refused, naming the file, the indicator and the
// plan's target (what `check targets` prints).
func TestUndescribedRefused(t *testing.T) {
	fsys := fstest.MapFS{}
	err := fs.WalkDir(targets.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(targets.FS, p)
		fsys[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f := fsys[path.Join(targets.Dir, "catalogue/common.yaml")]
	if f == nil {
		t.Fatal("no catalogue/common.yaml in targets.FS")
	}
	var out []string
	skip := false
	for _, ln := range strings.Split(string(f.Data), "\n") {
		if strings.HasPrefix(ln, "  - id: ") {
			skip = ln == "  - id: drug_sampling_pass_rate"
		}
		if skip && (strings.HasPrefix(ln, "    definition:") || strings.HasPrefix(ln, "    source:")) {
			continue
		}
		out = append(out, ln)
	}
	f.Data = []byte(strings.Join(out, "\n"))
	_, err = plan.LoadDir(fsys, targets.Dir)
	if err == nil || !strings.Contains(err.Error(), `catalogue/common.yaml: indicator "drug_sampling_pass_rate": definition, source required`) {
		t.Fatalf("err = %v", err)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
