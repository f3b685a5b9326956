package evaluate

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/obs"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/region"
)

func f(v float64) *float64 { return &v }

func fixture(t *testing.T, targetsYAML string) *plan.Set {
	t.Helper()
	cat, err := catalog.New(
		&catalog.Indicator{ID: "pass_rate", NameZh: "合格率", NameEn: "Pass rate", Unit: "percent", Min: f(0), Max: f(100), Better: "higher", Frequency: "yearly", Kind: "level"},
		&catalog.Indicator{ID: "pm25", NameZh: "细颗粒物浓度", NameEn: "PM2.5", Unit: "ug_m3", Min: f(0), Max: f(1000), Better: "lower", Frequency: "yearly", Kind: "level"},
		&catalog.Indicator{ID: "index", NameZh: "指数", NameEn: "Index", Unit: "index", Min: f(0), Max: f(100), Better: "higher", Frequency: "yearly", Kind: "level"},
		&catalog.Indicator{ID: "brands_new", NameZh: "新增名牌", NameEn: "New brands", Unit: "count", Min: f(0), Max: f(100000), Better: "higher", Frequency: "yearly", Kind: "flow"},
	)
	if err != nil {
		t.Fatal(err)
	}
	regs, err := region.New(
		&region.Region{Code: "620000", Name: "甘肃省", Short: "甘肃", Level: region.Province},
		&region.Region{Code: "620100", Name: "兰州市", Short: "兰州", Level: region.Prefecture},
		&region.Region{Code: "620200", Name: "嘉峪关市", Short: "嘉峪关", Level: region.Prefecture},
		&region.Region{Code: "620300", Name: "金昌市", Short: "金昌", Level: region.Prefecture},
	)
	if err != nil {
		t.Fatal(err)
	}
	doc := "plan: {key: test-2018, name_zh: 测试, issuer: 测试, published: \"2018\", region: \"620000\", start: 2018, source: x.txt}\ntargets:\n" + targetsYAML
	pl, err := plan.Parse("test-2018.yaml", []byte(doc), cat, regs)
	if err != nil {
		t.Fatal(err)
	}
	return &plan.Set{Plans: []*plan.Plan{pl}, Catalog: cat, Regions: regs}
}

// rows builds yearly observations: "620000:pass_rate" -> {2017: 90, ...}.
func rows(data map[string]map[int]float64) []obs.Stored {
	var out []obs.Stored
	for k, years := range data {
		reg, ind, _ := strings.Cut(k, ":")
		for y, v := range years {
			out = append(out, obs.Stored{Observation: obs.Observation{Indicator: ind, Region: reg, Period: period.OfYear(y), Value: v}})
		}
	}
	return out
}

const common = "clause: x\n    quote: x\n"

func TestEvaluateHandWorked(t *testing.T) {
	at := func(s string) time.Time { tm, _ := time.Parse("2006-01-02", s); return tm }
	cases := []struct {
		name     string
		target   string
		data     map[string]map[int]float64
		at       time.Time
		status   Status
		actual   *float64
		gap      *float64
		progress *float64
		proj     *float64
		stale    bool
	}{
		{
			name:   "no data",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 96, deadline: 2020, modality: reach, " + "clause: x, quote: x}",
			data:   nil, at: at("2019-06-01"), status: NoData,
		},
		{
			// Deadline figure 96.2 >= 96: achieved, gap -0.2.
			name:   "deadline figure meets",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 96, deadline: 2020, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 94, 2019: 95, 2020: 96.2}},
			at:     at("2021-03-01"), status: Achieved, actual: f(96.2), gap: f(-0.2),
		},
		{
			name:   "deadline figure falls short",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 96, deadline: 2020, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 94, 2019: 95, 2020: 95.5}},
			at:     at("2021-03-01"), status: Missed, actual: f(95.5), gap: f(0.5),
		},
		{
			// Baseline 2017 = 90, figures 2018 91, 2019 92: slope 1/yr over 2017..2019,
			// projection 2020 = 93; required 96-90 = 6, projected progress 3: ratio 0.5 → at risk.
			name:   "at risk: half the required pace",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 96, deadline: 2020, baseline: {year: 2017, value: 90}, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 91, 2019: 92}},
			at:     at("2019-12-31"), status: AtRisk, actual: f(92), gap: f(4), progress: f(0.5), proj: f(93),
		},
		{
			// 90 → 92 → 94 (2017..2019): slope 2, projection 96 meets → on track, ratio 1.
			name:   "on track: projection meets",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 96, deadline: 2020, baseline: {year: 2017, value: 90}, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 92, 2019: 94}},
			at:     at("2020-01-15"), status: OnTrack, actual: f(94), gap: f(2), progress: f(1), proj: f(96),
		},
		{
			// 90, 90.2, 90.4: slope 0.2, projection 90.6: progress 0.6/6 = 0.1 → at risk (boundary).
			name:   "boundary 0.10 is at risk",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 96, deadline: 2020, baseline: {year: 2017, value: 90}, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 90.2, 2019: 90.4}},
			at:     at("2019-12-31"), status: AtRisk, progress: f(0.1), proj: f(90.6),
		},
		{
			// 90, 89, 88: regression; projection 87, progress -3/6 → off track.
			name:   "off track: regression",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 96, deadline: 2020, baseline: {year: 2017, value: 90}, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 89, 2019: 88}},
			at:     at("2019-12-31"), status: OffTrack, progress: f(-0.5), proj: f(87),
		},
		{
			// 95 → 98 → 99.5 with slope ~2.25/yr would project past 100: clamped at the bound.
			name:   "bounded projection stops at 100",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 99.9, deadline: 2022, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2017: 95, 2018: 98, 2019: 99.5}},
			at:     at("2019-12-31"), status: OnTrack, proj: f(100),
		},
		{
			// Lower is better: 50 → 45 → 40 (2017..2019), target <= 35 by 2020: projection 35 → on track.
			name:   "lower is better",
			target: "- {id: a, indicator: pm25, region: \"620000\", comparator: \"<=\", value: 35, deadline: 2020, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pm25": {2017: 50, 2018: 45, 2019: 40}},
			at:     at("2019-12-31"), status: OnTrack, actual: f(40), gap: f(5), progress: f(1), proj: f(35),
		},
		{
			// "提高4.7,达到89": implied baseline 84.3 in 2017; figure 2018 85.3: one point plus baseline,
			// slope 1, projection 2020 = 87.3, progress 3/4.7.
			name:   "increment implies the baseline",
			target: "- {id: a, indicator: index, region: \"620000\", comparator: \">=\", value: 89, increment: 4.7, deadline: 2020, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:index": {2018: 85.3}},
			at:     at("2019-02-01"), status: AtRisk, actual: f(85.3), gap: f(3.7), progress: f(3.0 / 4.7), proj: f(87.3),
		},
		{
			// Yearly data last for 2018 (ends 2019-01-01); 2020-09-01 is 609 days later > 366+180.
			name:   "stale yearly data",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 96, deadline: 2022, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2017: 97, 2018: 97}},
			at:     at("2020-09-01"), status: OnTrack, actual: f(97), stale: true,
		},
		{
			// 2020 deadline, only figures to 2019; in 2022 the 2020 figure is overdue:
			// judged on 2019's 95 → missed (not "on track" forever).
			name:   "deadline figure overdue: missed",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 96, deadline: 2020, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 93, 2019: 95}},
			at:     at("2022-01-01"), status: Missed, actual: f(95), gap: f(1), stale: true,
		},
		{
			// Same data in March 2021: the 2020 figure may still come, so the projection decides
			// (93 → 95: slope 2, 97 by 2020 → on track).
			name:   "deadline figure not yet due",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 96, deadline: 2020, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 93, 2019: 95}},
			at:     at("2021-03-01"), status: OnTrack, proj: f(97),
		},
		{
			name:   "new items overdue: missed",
			target: "- {id: a, indicator: brands_new, region: \"620000\", comparator: \">=\", value: 700, deadline: 2020, modality: new, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 300, 2019: 300}},
			at:     at("2023-01-01"), status: Missed, actual: f(600), gap: f(100), stale: true,
		},
		{
			name:   "as-of hides later years",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 96, deadline: 2020, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 97, 2019: 97, 2020: 90}},
			at:     at("2019-06-30"), status: OnTrack, actual: f(97),
		},
		{
			name:   "hold breached by one year",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 98, deadline: 2020, modality: hold, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2017: 97, 2018: 98.5, 2019: 97.9, 2020: 99}},
			at:     at("2019-12-31"), status: Missed, actual: f(97.9), gap: f(0.1),
		},
		{
			// 2017 is before the plan's start and does not count.
			name:   "hold kept every year",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 98, deadline: 2020, modality: hold, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2017: 97, 2018: 98.5, 2019: 98.1, 2020: 98}},
			at:     at("2021-04-01"), status: Achieved, actual: f(98), gap: f(0),
		},
		{
			// 99, 98.6: slope -0.4, projection 2020 = 98.2 >= 98 → still on track.
			name:   "hold so far, trend fine",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 98, deadline: 2020, modality: hold, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 99, 2019: 98.6}},
			at:     at("2019-12-31"), status: OnTrack, proj: f(98.2),
		},
		{
			// 2018 missed (1800 < 2000), 2019 met (2100); 2020 not reported yet:
			// the latest judged year was met, so on track (2018 named in the detail).
			name:   "quota judged each year",
			target: "- {id: a, indicator: brands_new, region: \"620000\", comparator: \">=\", modality: quota, quotas: {2018: 2000, 2019: 2000, 2020: 2000}, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 1800, 2019: 2100}},
			at:     at("2020-03-01"), status: OnTrack, actual: f(2100), gap: f(-100),
		},
		{
			name:   "quota latest year missed",
			target: "- {id: a, indicator: brands_new, region: \"620000\", comparator: \">=\", modality: quota, quotas: {2018: 2000, 2019: 2000}, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 2100, 2019: 1800}},
			at:     at("2020-03-01"), status: Missed, actual: f(1800), gap: f(200),
		},
		{
			// 2018: 200, 2019: 250 → 450 so far; 225/yr projects 675 by 2020 vs 700 → ratio 0.964 → on track.
			name:   "new items projected",
			target: "- {id: a, indicator: brands_new, region: \"620000\", comparator: \">=\", value: 700, deadline: 2020, modality: new, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:brands_new": {2017: 999, 2018: 200, 2019: 250}},
			at:     at("2019-12-31"), status: OnTrack, actual: f(450), gap: f(250), progress: f(675.0 / 700), proj: f(675),
		},
		{
			name:   "new items reached early",
			target: "- {id: a, indicator: brands_new, region: \"620000\", comparator: \">=\", value: 700, deadline: 2020, modality: new, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 400, 2019: 350}},
			at:     at("2019-12-31"), status: Achieved, actual: f(750), gap: f(-50),
		},
		{
			name:   "new items missed at deadline",
			target: "- {id: a, indicator: brands_new, region: \"620000\", comparator: \">=\", value: 700, deadline: 2020, modality: new, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 200, 2019: 200, 2020: 200}},
			at:     at("2021-03-01"), status: Missed, actual: f(600), gap: f(100),
		},
		{
			// Average of 3 cities computed: 2020 (80+84+85)/3 = 83 >= 82.
			name:   "average computed from regions",
			target: "- {id: a, indicator: pass_rate, average: {parent: \"620000\", level: prefecture}, comparator: \">=\", value: 82, deadline: 2020, modality: reach, clause: x, quote: x}",
			data: map[string]map[int]float64{
				"620100:pass_rate": {2020: 80}, "620200:pass_rate": {2020: 84}, "620300:pass_rate": {2020: 85},
			},
			at: at("2021-03-01"), status: Achieved, actual: f(83), gap: f(-1),
		},
		{
			// A reported average (for the province) wins over the computed mean.
			name:   "average as reported",
			target: "- {id: a, indicator: pass_rate, average: {parent: \"620000\", level: prefecture}, comparator: \">=\", value: 82, deadline: 2020, modality: reach, clause: x, quote: x}",
			data: map[string]map[int]float64{
				"620000:pass_rate": {2020: 81}, "620100:pass_rate": {2020: 90}, "620200:pass_rate": {2020: 90},
			},
			at: at("2021-03-01"), status: Missed, actual: f(81), gap: f(1),
		},
		{
			name:   "no deadline, met",
			target: "- {id: a, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 90, modality: reach, clause: x, quote: x}",
			data:   map[string]map[int]float64{"620000:pass_rate": {2019: 91}},
			at:     at("2020-01-01"), status: Achieved, actual: f(91),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set := fixture(t, c.target)
			e := &Evaluator{Set: set}
			got := e.Evaluate(NewData(rows(c.data)), "", c.at)
			if len(got) != 1 {
				t.Fatalf("got %d evaluations, want 1", len(got))
			}
			ev := got[0]
			if ev.Status != c.status {
				t.Errorf("status = %s, want %s (detail %q)", ev.Status, c.status, ev.Detail)
			}
			check := func(name string, got, want *float64) {
				if want == nil {
					return
				}
				if got == nil || math.Abs(*got-*want) > 1e-9 {
					t.Errorf("%s = %v, want %v", name, show(got), *want)
				}
			}
			check("actual", ev.Actual, c.actual)
			check("gap", ev.Gap, c.gap)
			check("progress", ev.Progress, c.progress)
			check("projected", ev.Projected, c.proj)
			if ev.Stale != c.stale {
				t.Errorf("stale = %v, want %v", ev.Stale, c.stale)
			}
		})
	}
}

func show(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func TestRegionGroupExpands(t *testing.T) {
	set := fixture(t, "- {id: g, indicator: pass_rate, region_group: {parent: \"620000\", level: prefecture, except: [\"620100\"]}, comparator: \">=\", value: 25, deadline: 2020, modality: reach, clause: x, quote: x}")
	e := &Evaluator{Set: set}
	got := e.Evaluate(NewData(rows(map[string]map[int]float64{"620200:pass_rate": {2020: 30}, "620300:pass_rate": {2020: 20}})), "", time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC))
	if len(got) != 2 {
		t.Fatalf("got %d evaluations, want 2 (620200, 620300)", len(got))
	}
	want := map[string]Status{"620200": Achieved, "620300": Missed}
	for _, ev := range got {
		if want[ev.Region] != ev.Status {
			t.Errorf("%s: %s, want %s", ev.Region, ev.Status, want[ev.Region])
		}
	}
}

func TestStatusCodes(t *testing.T) {
	seen := map[int]bool{}
	for _, s := range Statuses {
		if seen[s.Code()] || s.Code() < 0 {
			t.Fatalf("code of %s not unique", s)
		}
		seen[s.Code()] = true
	}
	if Status("bogus").Code() != -1 {
		t.Fatal("unknown status has a code")
	}
}
