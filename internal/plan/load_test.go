package plan_test

import (
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
	want := map[string]int{"shandong-2018": 35, "hainan-2018": 35, "jiangsu-2018": 20, "qingdao-2023": 5, "gansu-2018": 19}
	units := 0
	for _, p := range set.Plans {
		if len(p.Targets) != want[p.Key] {
			t.Errorf("%s: %d targets, README says %d", p.Key, len(p.Targets), want[p.Key])
		}
		for _, tg := range p.Targets {
			units += len(tg.Units)
		}
	}
	if len(set.Plans) != len(want) || units != 141 {
		t.Errorf("%d plans, %d evaluations; README says 5 and 141", len(set.Plans), units)
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
