package plan_test

import (
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/targets"
)

// The shipped plans must load and validate.
func TestShippedTargetsLoad(t *testing.T) {
	set, err := plan.LoadDir(targets.FS, targets.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range set.Plans {
		t.Logf("%s: %d targets", p.Key, len(p.Targets))
	}
}

// The counts documented in targets/README.md.
func TestShippedTargetCounts(t *testing.T) {
	set, err := plan.LoadDir(targets.FS, targets.Dir)
	if err != nil {
		t.Fatal(err)
	}
	// plan -> {tracked, untracked}
	want := map[string][2]int{"shandong-2018": {35, 2}, "hainan-2018": {35, 0}, "jiangsu-2018": {20, 0}, "qingdao-2023": {5, 0}, "gansu-2018": {19, 0}, "national-2023": {4, 0}}
	units := 0
	for _, p := range set.Plans {
		var got [2]int
		for _, tg := range p.Targets {
			if tg.IsTracked() {
				got[0]++
			} else {
				got[1]++
			}
		}
		if got != want[p.Key] {
			t.Errorf("%s: %d tracked and %d untracked targets, README says %v", p.Key, got[0], got[1], want[p.Key])
		}
		for _, tg := range p.Targets {
			units += len(tg.Units)
		}
	}
	if len(set.Plans) != len(want) || units != 145 {
		t.Errorf("%d plans, %d evaluations; README says 6 and 145", len(set.Plans), units)
	}
	// The garbled numbers are corrected.
	for key, id := range map[string]string{"shandong-2018": "manufacturing-quality-competitiveness-index", "qingdao-2023": "food-sampling-pass-rate"} {
		p, _ := set.Plan(key)
		found := false
		for _, tg := range p.Targets {
			if tg.ID == id {
				found = true
				if tg.Printed == "" {
					t.Errorf("%s/%s: printed text missing", key, id)
				}
			}
		}
		if !found {
			t.Errorf("%s/%s missing", key, id)
		}
	}
}

// A milestone and a later deadline for one figure are two commitments, not a
// contradiction; nor is an average beside the same indicator for the region.
func TestNoContradictionAcrossYearsOrAverages(t *testing.T) {
	cat, regs := shipped(t)
	data := []byte(`plan: {key: test-2018, name_zh: 测试方案, issuer: 测试省, published: "2018", region: "620000", start: 2018, horizon: 2025, source: x.txt}
targets:
- {id: hold-92, indicator: food_sampling_pass_rate, region: "620000", comparator: ">=", value: 92, deadline: 2020, modality: hold, clause: "一(三)", quote: "到2020年稳定在92%以上"}
- {id: reach-94, indicator: food_sampling_pass_rate, region: "620000", comparator: ">=", value: 94, deadline: 2025, modality: reach, clause: "一(三)", quote: "到2025年达到94%以上"}
- {id: mean-90, indicator: food_sampling_pass_rate, average: {parent: "620000", level: prefecture}, comparator: ">=", value: 90, deadline: 2025, modality: reach, clause: "一(三)", quote: "各市州平均达到90%以上"}
`)
	if _, err := plan.Parse("x.yaml", data, cat, regs); err != nil {
		t.Fatal(err)
	}
}

// TestPlanKeys: a county's plan may name its prefecture and county
// (qingdao-huangdao-2021) or its code (county-370211-2021); keys stay
// lower-case parts joined by -, the year last, at most 64 characters.
func TestPlanKeys(t *testing.T) {
	cat, regs := shipped(t)
	for key, ok := range map[string]bool{
		"shandong-2018": true, "qingdao-huangdao-2021": true, "county-370211-2021": true,
		"Qingdao-2021": false, "qingdao--2021": false, "-2021": false, "qingdao-21": false, "370211-2021": false,
		"qingdao-huangdao_x-2021": false, strings.Repeat("a", 60) + "-2021": false,
	} {
		data := []byte(`plan: {key: ` + key + `, name_zh: 测试方案, issuer: 测试省, published: "2021", region: "370200", start: 2021, horizon: 2025, source: x.txt}
targets:
- {id: food, indicator: food_sampling_pass_rate, region: "370200", comparator: ">=", value: 92, deadline: 2025, modality: reach, clause: "一", quote: "达到92%以上"}
`)
		_, err := plan.Parse("x.yaml", data, cat, regs)
		if got := err == nil || !strings.Contains(err.Error(), "plan.key"); got != ok {
			t.Errorf("key %q: accepted %v, want %v (%v)", key, got, ok, err)
		}
	}
}
