package plan_test

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/golden"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/region"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/targets"
)

func shipped(t *testing.T) (*catalog.Catalog, *region.Table) {
	t.Helper()
	return testenv.Targets(t)
}

// Every testdata/*.bad.yaml names, in its first line, the error it must give.
func TestBadPlans(t *testing.T) {
	cat, regs := shipped(t)
	for f, want := range golden.Cases(t, 30, "testdata/*.bad.yaml") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = plan.Parse(f, data, cat, regs)
		if err == nil {
			t.Errorf("%s: accepted, want %q", f, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got: %v\nwant: %s", f, err, want)
		}
		if !strings.HasPrefix(err.Error(), f+": ") {
			t.Errorf("%s: error does not start with the file name: %v", f, err)
		}
	}
}

func TestGoodPlanResolves(t *testing.T) {
	cat, regs := shipped(t)
	data, _ := os.ReadFile("testdata/good.yaml")
	p, err := plan.Parse("testdata/good.yaml", data, cat, regs)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.Targets[1].AverageOf); got != 14 {
		t.Errorf("average over Gansu's prefectures: %d regions, want 14", got)
	}
	if v := *p.Targets[2].Value; v != 12 {
		t.Errorf("quota target value = %v, want the latest quota 12", v)
	}
}

func TestKeyMustMatchFileName(t *testing.T) {
	data, _ := os.ReadFile("testdata/good.yaml")
	fsys := fstest.MapFS{}
	for _, name := range []string{"regions.yaml", "regions-county.tsv"} {
		b, _ := targets.FS.ReadFile(name)
		fsys[name] = &fstest.MapFile{Data: b}
	}
	entries, _ := targets.FS.ReadDir("catalogue")
	for _, e := range entries {
		b, _ := targets.FS.ReadFile("catalogue/" + e.Name())
		fsys["catalogue/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	fsys["other-2018.yaml"] = &fstest.MapFile{Data: data}
	_, err := plan.LoadDir(fsys, ".")
	if err == nil || !strings.Contains(err.Error(), `other-2018.yaml: plan.key: "test-2018" must match the file name "other-2018"`) {
		t.Fatalf("err = %v", err)
	}
}

// TestCountyPlan: a county's plan (胶州市), a target for a county and a
// group over a prefecture's county-level divisions load; the group expands
// to 青岛's ten, one an exception.
func TestCountyPlan(t *testing.T) {
	cat, regs := shipped(t)
	data := []byte(`plan: {key: test-2018, name_zh: 胶州市质量提升方案, issuer: 胶州市人民政府, published: "2018", region: "370281", start: 2018, horizon: 2020, source: x.txt}
targets:
- {id: t1, indicator: food_sampling_pass_rate, comparator: ">=", value: 96, deadline: 2020, modality: reach, clause: "二(一)", quote: "到2020年,食品安全抽检合格率达到96%以上", region: "370281"}
- {id: t2, indicator: food_sampling_pass_rate, comparator: ">=", value: 96, deadline: 2020, modality: reach, clause: "二(二)", quote: "到2020年,食品安全抽检合格率达到96%以上", region_group: {parent: "370200", level: county, except: ["370281"]}}
`)
	p, err := plan.Parse("test-2018.yaml", data, cat, regs)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Targets[0].Units; len(got) != 1 || got[0] != "370281" {
		t.Errorf("t1 units %v", got)
	}
	units := p.Targets[1].Units
	if len(units) != 9 || units[0] != "370202" || strings.Contains(strings.Join(units, ","), "370281") {
		t.Errorf("t2 units %v, want 青岛's nine other county-level divisions", units)
	}
}
