package evaluate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/catalog"
	"github.com/qualitymon/qualitymon/internal/observation"
	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
	"github.com/qualitymon/qualitymon/internal/testenv"
)

func f(v float64) *float64 { return &v }

func fixture(t *testing.T, targetsYAML string) *plan.Set {
	t.Helper()
	cat, err := catalog.New(
		&catalog.Indicator{ID: "pass_rate", NameZh: "合格率", NameEn: "Pass rate", Unit: "percent", Min: f(0), Max: f(100), Better: "higher", Frequency: "yearly", Kind: "level"},
		&catalog.Indicator{ID: "pm25", NameZh: "细颗粒物浓度", NameEn: "PM2.5", Unit: "ug_m3", Min: f(0), Max: f(1000), Better: "lower", Frequency: "yearly", Kind: "level"},
		&catalog.Indicator{ID: "index", NameZh: "指数", NameEn: "Index", Unit: "index", Min: f(0), Max: f(100), Better: "higher", Frequency: "yearly", Kind: "level"},
		&catalog.Indicator{ID: "brands_new", NameZh: "新增名牌", NameEn: "New brands", Unit: "count", Min: f(0), Max: f(100000), Better: "higher", Frequency: "yearly", Kind: "flow"},
		&catalog.Indicator{ID: "pass_rate_mean", NameZh: "合格率市州平均", NameEn: "Mean pass rate", Unit: "percent", Min: f(0), Max: f(100), Better: "higher", Frequency: "yearly", Kind: "level"},
		&catalog.Indicator{ID: "gi_count", NameZh: "地理标志保护产品数量", NameEn: "GI products", Unit: "count", Min: f(0), Max: f(100000), Better: "higher", Frequency: "yearly", Kind: "level"},
	)
	if err != nil {
		t.Fatal(err)
	}
	regs := testenv.Regions(t, "620000", "620100", "620200", "620300")
	doc := "plan: {key: test-2018, name_zh: 测试, issuer: 测试, published: \"2018\", region: \"620000\", start: 2018, horizon: 2020, source: x.txt}\ntargets:\n" + targetsYAML
	pl, err := plan.Parse("test-2018.yaml", []byte(doc), cat, regs)
	if err != nil {
		t.Fatal(err)
	}
	return &plan.Set{Plans: []*plan.Plan{pl}, Catalog: cat, Regions: regs}
}

// rows builds yearly observations: "620000:pass_rate" -> {2017: 90, ...}.
func rows(data map[string]map[int]float64) []observation.Stored {
	var out []observation.Stored
	for k, years := range data {
		reg, ind, _ := strings.Cut(k, ":")
		for y, v := range years {
			out = append(out, observation.Stored{Observation: observation.Observation{Indicator: ind, Region: reg, Period: period.OfYear(y), Value: v}})
		}
	}
	return out
}

const common = "clause: x\n    quote: x\n"

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

// A target settles when its deadline year has ended, and its grace passed, on
// the calendar of the evaluation moment's location: qualitymon's clock runs
// in the config's timezone (Asia/Shanghai by default), so a 2020 target with
// half a year's grace settles at 2021-06-30T00:00+08:00, eight hours before
// the same moment in UTC.
func TestSettlesOnTheClocksCalendar(t *testing.T) {
	set := fixture(t, "- {id: r, indicator: pass_rate, region: \"620000\", comparator: \">=\", value: 95, deadline: 2020, modality: reach, clause: x, quote: x}")
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	e := &Evaluator{Set: set}
	data := NewData(rows(map[string]map[int]float64{"620000:pass_rate": {2019: 90}}))
	one := func(at time.Time) Evaluation {
		t.Helper()
		got := e.Evaluate(data, "", at)
		if len(got) != 1 {
			t.Fatalf("got %d evaluations", len(got))
		}
		return got[0]
	}
	settles := one(time.Date(2021, 1, 1, 0, 0, 0, 0, shanghai)).SettlesAt
	if settles.Location() != shanghai || settles.Hour() != 0 {
		t.Fatalf("settles at %s, want local midnight in Asia/Shanghai", settles)
	}
	// One hour after that midnight in Beijing (17:00 UTC the day before).
	at := settles.Add(time.Hour)
	if ev := one(at); !ev.Settled {
		t.Errorf("at %s (Asia/Shanghai): not settled", at)
	}
	if ev := one(at.UTC()); ev.Settled {
		t.Errorf("at %s (UTC calendar): settled, but the UTC year end and grace have not passed", at.UTC())
	}
}

// TestStaleFollowsDue: a target is stale once the figure after its latest
// is overdue (catalog Indicator.Due: the period's end on the calendar of
// the clock's zone plus the publication lag) by more than the grace. The
// 2018 figure is the latest; the 2019 figure is due 2020-01-01 +08:00 + 90 d,
// stale 180 d later: 2020-09-27 00:00 in Asia/Shanghai, 2020-09-26 16:00 UTC.
func TestStaleFollowsDue(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	set := fixture(t, `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 96, deadline: 2022, modality: reach, clause: x, quote: x}`)
	e := &Evaluator{Set: set}
	d := NewData(rows(map[string]map[int]float64{"620000:pass_rate": {2017: 97, 2018: 97}}))
	ind, _ := set.Catalog.Get("pass_rate")
	due := ind.Due(period.OfYear(2019), sh)
	staleAt := e.Opts.StaleAt(ind, period.OfYear(2018).End(), sh)
	if want := time.Date(2020, 3, 31, 0, 0, 0, 0, sh); !due.Equal(want) {
		t.Fatalf("the 2019 figure is due %v, want %v", due, want)
	}
	if want := due.Add(180 * 24 * time.Hour); !staleAt.Equal(want) {
		t.Fatalf("StaleAt = %v, want the due date + 180 d grace = %v", staleAt, want)
	}
	for _, c := range []struct {
		at    time.Time
		stale bool
	}{
		{time.Date(2020, 9, 26, 23, 59, 0, 0, sh), false},
		{time.Date(2020, 9, 27, 0, 1, 0, 0, sh), true}, // 2020-09-26 16:01 UTC: not yet stale on the UTC calendar
	} {
		got := e.Evaluate(d, "", c.at)
		if len(got) != 1 || got[0].Stale != c.stale {
			t.Errorf("at %v: %+v, want stale %v", c.at, got, c.stale)
		}
	}
}

// EvaluateTargets judges many targets on every CPU: the result is the same,
// in the same order, as judging each alone (go test -race checks that the
// judgements share nothing they write).
func TestEvaluateTargetsParallelSameAsOneByOne(t *testing.T) {
	var b strings.Builder
	n := 0
	for _, ind := range []string{"pass_rate", "pm25", "index"} {
		cmp, val := ">=", 90
		if ind == "pm25" {
			cmp, val = "<=", 35
		}
		for i := 0; i < 200; i++ {
			for _, reg := range []string{"620000", "620100", "620200", "620300"} {
				fmt.Fprintf(&b, "  - {id: t-%s-%d-%s, indicator: %s, region: %q, comparator: %q, value: %d, deadline: %d, %s}\n",
					strings.ReplaceAll(ind, "_", "-"), i, reg, ind, reg, cmp, val, 2019+i%3, []string{"modality: reach", "modality: hold", "modality: reach, lead_agencies: [局]"}[i%3]+", clause: x, quote: x")
				n++
			}
		}
	}
	set := fixture(t, b.String())
	data := map[string]map[int]float64{}
	for _, ind := range []string{"pass_rate", "pm25", "index"} {
		for j, reg := range []string{"620000", "620100", "620200"} { // 620300: no figures
			data[reg+":"+ind] = map[int]float64{2017: 80 + float64(j), 2018: 85 + float64(j), 2019: 88 + float64(j)}
		}
	}
	ev := &Evaluator{Set: set}
	d := ev.NewData(rows(data))
	at := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	targets := set.Tracked("")
	got := ev.EvaluateTargets(d, targets, at)
	if len(got) != n || n < parallelFrom {
		t.Fatalf("%d evaluations of %d targets; the test needs at least %d", len(got), n, parallelFrom)
	}
	i := 0
	for _, tg := range targets {
		for range tg.Units {
			want := ev.EvaluateTargets(d, []*plan.Target{tg}, at)[0]
			if g := got[i]; g.Target != want.Target || g.Region != want.Region || g.Status != want.Status || g.Basis.Code != want.Basis.Code ||
				show(g.Actual) != show(want.Actual) || show(g.Gap) != show(want.Gap) || show(g.Projected) != show(want.Projected) {
				t.Fatalf("evaluation %d: %s/%s %s (%s) actual %s gap %s, alone: %s/%s %s (%s) actual %s gap %s", i,
					g.Target, g.Region, g.Status, g.Basis.Code, show(g.Actual), show(g.Gap),
					want.Target, want.Region, want.Status, want.Basis.Code, show(want.Actual), show(want.Gap))
			}
			i++
		}
	}
}
