package evaluate

import (
	"math"
	"strings"
	"testing"
	"time"
)

// reachT is a reach target: pass rate >= 96 by 2020 (plan 2018, horizon 2020).
const reachT = `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 96, deadline: 2020, modality: reach, clause: x, quote: x}`

// ruleCase is one hand-worked situation: the figures, the moment, and the
// verdict a person works out from the rules in DESIGN.md and issue 7.
type ruleCase struct {
	name     string
	target   string
	data     map[string]map[int]float64
	at       string
	status   Status
	basis    string
	actual   *float64
	gap      *float64
	progress *float64
	proj     *float64
	stale    bool
	settled  bool
	// more checks, when the case needs them.
	check func(t *testing.T, ev Evaluation)
}

func day(s string) time.Time {
	tm, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return tm
}

func runRule(t *testing.T, c ruleCase) Evaluation {
	t.Helper()
	set := fixture(t, c.target)
	e := &Evaluator{Set: set}
	got := e.Evaluate(NewData(rows(c.data)), "", day(c.at))
	if len(got) != 1 {
		t.Fatalf("got %d evaluations, want 1", len(got))
	}
	ev := got[0]
	if ev.Status != c.status {
		t.Errorf("status = %s, want %s (basis %s: %s)", ev.Status, c.status, ev.Basis.Code, ev.Basis.En)
	}
	if c.basis != "" && ev.Basis.Code != c.basis {
		t.Errorf("basis = %s (%s), want %s", ev.Basis.Code, ev.Basis.En, c.basis)
	}
	if ev.Basis.Zh == "" || ev.Basis.En == "" || ev.Basis.Code == "" {
		t.Errorf("basis incomplete: %+v", ev.Basis)
	}
	num := func(name string, got, want *float64) {
		if want == nil {
			return
		}
		if got == nil || math.Abs(*got-*want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, show(got), *want)
		}
	}
	num("actual", ev.Actual, c.actual)
	num("gap", ev.Gap, c.gap)
	num("progress", ev.Progress, c.progress)
	num("projected", ev.Projected, c.proj)
	if ev.Stale != c.stale {
		t.Errorf("stale = %v, want %v", ev.Stale, c.stale)
	}
	if ev.Settled != c.settled {
		t.Errorf("settled = %v, want %v", ev.Settled, c.settled)
	}
	if ev.Settled && ev.Status != Achieved && ev.Status != Missed && ev.Status != NoData {
		t.Errorf("settled with status %s", ev.Status)
	}
	if c.check != nil {
		c.check(t, ev)
	}
	return ev
}

func TestRules(t *testing.T) {
	for _, c := range []ruleCase{
		// --- reach: the deadline year decides ---
		{
			// 2020 figure 96.2 >= 96: achieved; gap 96 - 96.2 = -0.2 (not -0.20000000000000284).
			name: "deadline figure meets", target: reachT,
			data: map[string]map[int]float64{"620000:pass_rate": {2018: 94, 2019: 95, 2020: 96.2}},
			at:   "2021-03-01", status: Achieved, basis: BasisDeadlineFigure, actual: f(96.2), gap: f(-0.2),
			check: func(t *testing.T, ev Evaluation) {
				if ev.LastObservationDay != "2020-12-31" {
					t.Errorf("last_observation = %q, want 2020-12-31 (the end of the period observed)", ev.LastObservationDay)
				}
			},
		},
		{
			name: "deadline figure falls short", target: reachT,
			data: map[string]map[int]float64{"620000:pass_rate": {2018: 94, 2019: 95, 2020: 95.5}},
			at:   "2021-03-01", status: Missed, basis: BasisDeadlineFigure, actual: f(95.5), gap: f(0.5),
		},
		{
			// Achieved in 2020, judged in 2026: settled (2020 end + 180 d grace = 2021-06-30 passed), never stale.
			name: "achieved in 2020 is settled, never stale", target: reachT,
			data: map[string]map[int]float64{"620000:pass_rate": {2018: 94, 2019: 95, 2020: 96.2}},
			at:   "2026-12-01", status: Achieved, basis: BasisDeadlineFigure, actual: f(96.2), settled: true,
		},
		// --- reach: the trend before the deadline ---
		{
			// Baseline 2017 = 90, 2018 91, 2019 92: slope 1/yr, projection 2020 = 93;
			// required 96 - 90 = 6, projected progress 3: ratio 0.5 → at risk.
			name:   "at risk: half the required pace",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 96, deadline: 2020, baseline: {year: 2017, value: 90}, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 91, 2019: 92}},
			at:     "2019-12-31", status: AtRisk, basis: BasisProjection, actual: f(92), gap: f(4), progress: f(0.5), proj: f(93),
		},
		{
			// 90 → 92 → 94 (2017..2019): slope 2, projection 96 meets → on track, ratio 1.
			name:   "on track: projection meets",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 96, deadline: 2020, baseline: {year: 2017, value: 90}, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 92, 2019: 94}},
			at:     "2020-01-15", status: OnTrack, basis: BasisProjection, actual: f(94), gap: f(2), progress: f(1), proj: f(96),
		},
		{
			// 90, 90.2, 90.4: slope 0.2, projection 90.6: progress 0.6/6 = 0.1 → at risk (boundary).
			name:   "boundary 0.10 is at risk",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 96, deadline: 2020, baseline: {year: 2017, value: 90}, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 90.2, 2019: 90.4}},
			at:     "2019-12-31", status: AtRisk, progress: f(0.1), proj: f(90.6),
		},
		{
			// 90, 89, 88: regression; projection 87, progress -3/6 → off track.
			name:   "off track: regression",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 96, deadline: 2020, baseline: {year: 2017, value: 90}, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 89, 2019: 88}},
			at:     "2019-12-31", status: OffTrack, basis: BasisProjection, progress: f(-0.5), proj: f(87),
		},
		{
			// 95 → 98 → 99.5, slope 2.25/yr, would reach 106 by 2022: clamped at the bound 100.
			name:   "bounded projection stops at 100",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 99.9, deadline: 2022, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2017: 95, 2018: 98, 2019: 99.5}},
			at:     "2019-12-31", status: OnTrack, proj: f(100),
		},
		{
			// Lower is better: 50 → 45 → 40 (2017..2019), target <= 35 by 2020: projection 35 → on track.
			name:   "lower is better",
			target: `- {id: a, indicator: pm25, region: "620000", comparator: "<=", value: 35, deadline: 2020, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pm25": {2017: 50, 2018: 45, 2019: 40}},
			at:     "2019-12-31", status: OnTrack, actual: f(40), gap: f(5), progress: f(1), proj: f(35),
		},
		{
			// "提高4.7,达到89": implied baseline 84.3 in 2017; 2018 = 85.3: slope 1 from the
			// baseline, projection 2020 = 87.3, progress 3/4.7 = 0.638 → at risk.
			name:   "increment implies the baseline",
			target: `- {id: a, indicator: index, region: "620000", comparator: ">=", value: 89, increment: 4.7, deadline: 2020, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:index": {2018: 85.3}},
			at:     "2019-02-01", status: AtRisk, basis: BasisProjection, actual: f(85.3), gap: f(3.7), progress: f(0.638), proj: f(87.3),
		},
		{
			// Two plan-period figures, the latest meets before the deadline: achieved (not settled).
			name: "met before the deadline", target: reachT,
			data: map[string]map[int]float64{"620000:pass_rate": {2018: 95, 2019: 97}},
			at:   "2020-03-01", status: Achieved, basis: BasisMetEarly, actual: f(97),
		},
		{
			// Latest yearly figure 2018; the 2019 figure is due 2020-01-01
			// + 90 d publication lag = 2020-03-31 (when it is overdue),
			// stale 180 d of grace later: from 2020-09-27 on.
			name:   "stale yearly data before settling",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 96, deadline: 2022, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2017: 97, 2018: 97}},
			at:     "2020-09-28", status: Achieved, actual: f(97), stale: true,
		},
		{
			// The day before: the 2019 figure is overdue, not yet by the
			// grace (stale under the rule before issue 18, interval + grace
			// from the end of 2018: from 2020-07-01 on).
			name:   "overdue yearly data within its grace is not stale",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 96, deadline: 2022, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2017: 97, 2018: 97}},
			at:     "2020-09-26", status: Achieved, actual: f(97),
		},
		// --- one figure, no trend yet ---
		{
			name: "one figure short: at risk, not no_data", target: reachT,
			data: map[string]map[int]float64{"620000:pass_rate": {2019: 95}},
			at:   "2020-02-01", status: AtRisk, basis: BasisOneFigure, actual: f(95), gap: f(1),
		},
		{
			name: "one figure meeting: on track", target: reachT,
			data: map[string]map[int]float64{"620000:pass_rate": {2019: 97}},
			at:   "2020-02-01", status: OnTrack, basis: BasisOneFigure, actual: f(97),
		},
		// --- figures from before the plan ---
		{
			// 2017 (before the 2018 start) meets: on track, never achieved before a plan-period figure.
			name: "pre-plan figure meets: on track", target: reachT,
			data: map[string]map[int]float64{"620000:pass_rate": {2017: 97}},
			at:   "2019-03-01", status: OnTrack, basis: BasisPrePlan, actual: f(97),
		},
		{
			// Settled with only a pre-plan figure: nothing from the plan period decides → no_data.
			name: "settled with only a pre-plan figure", target: reachT,
			data: map[string]map[int]float64{"620000:pass_rate": {2017: 97}},
			at:   "2022-03-01", status: NoData, basis: BasisNoPlanFigure, settled: true,
		},
		// --- settling ---
		{
			// 2020 deadline, figures to 2019; in 2022 the 2020 figure is long overdue:
			// the last plan-period figure (2019: 95) decides → missed, settled, not stale.
			name: "deadline figure never reported: settles on the last figure", target: reachT,
			data: map[string]map[int]float64{"620000:pass_rate": {2018: 93, 2019: 95}},
			at:   "2022-01-01", status: Missed, basis: BasisLastBeforeDeadline, actual: f(95), gap: f(1), settled: true,
		},
		{
			// Same data in March 2021: the 2020 figure may still come (grace to 2021-06-30),
			// so the projection decides (93 → 95: slope 2, 97 by 2020 → on track).
			name: "deadline figure not yet due", target: reachT,
			data: map[string]map[int]float64{"620000:pass_rate": {2018: 93, 2019: 95}},
			at:   "2021-03-01", status: OnTrack, basis: BasisProjection, proj: f(97),
		},
		{
			// Only figures for after the deadline (2021, 2022): never projected backwards,
			// never decide; shown as later figures.
			name: "only figures after the deadline", target: reachT,
			data: map[string]map[int]float64{"620000:pass_rate": {2021: 97, 2022: 98}},
			at:   "2023-03-01", status: NoData, basis: BasisNoPlanFigure, settled: true,
			check: func(t *testing.T, ev Evaluation) {
				if ev.Projected != nil || ev.Actual != nil {
					t.Errorf("projected %v actual %v from figures after the deadline", show(ev.Projected), show(ev.Actual))
				}
				if len(ev.Later) != 2 || ev.Later[0].Period != "2021" || ev.Later[1].Value != 98 {
					t.Errorf("later figures = %+v", ev.Later)
				}
			},
		},
		{
			// A later figure never overrides the deadline year's.
			name: "later figures shown, the deadline year decides", target: reachT,
			data: map[string]map[int]float64{"620000:pass_rate": {2020: 95, 2021: 99}},
			at:   "2022-03-01", status: Missed, basis: BasisDeadlineFigure, actual: f(95), settled: true,
		},
		{
			// No printed deadline: the plan's horizon (2020) is the deadline; settles like any other.
			name:   "no printed deadline uses the horizon",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 90, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 88, 2019: 89}},
			at:     "2024-01-01", status: Missed, basis: BasisLastBeforeDeadline, actual: f(89), settled: true,
			check: func(t *testing.T, ev Evaluation) {
				if ev.Deadline == nil || *ev.Deadline != 2020 || !ev.DeadlineFromHorizon {
					t.Errorf("deadline %v from horizon %v, want 2020 from the horizon", ev.Deadline, ev.DeadlineFromHorizon)
				}
			},
		},
		{
			name:   "no figure at all, settled",
			target: reachT, data: nil, at: "2025-01-01", status: NoData, basis: BasisNoFigure, settled: true,
		},
		{
			name:   "no figure at all, before the deadline",
			target: reachT, data: nil, at: "2019-06-01", status: NoData, basis: BasisNoFigure,
		},
		// --- hold ("稳定在…以上") ---
		{
			// 2019 = 97.9 < 98: missed for good, naming 2019; the gap is the worst year's 0.1.
			name:   "hold breached by one year",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 98, deadline: 2020, modality: hold, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2017: 97, 2018: 98.5, 2019: 97.9, 2020: 99}},
			at:     "2019-12-31", status: Missed, basis: BasisHoldBreach, actual: f(97.9), gap: f(0.1),
			check: func(t *testing.T, ev Evaluation) {
				if !strings.Contains(ev.Basis.Zh, "2019年低于") || !strings.Contains(ev.Basis.En, "2019") {
					t.Errorf("basis does not name 2019: %s / %s", ev.Basis.Zh, ev.Basis.En)
				}
			},
		},
		{
			// "稳定在92%以上", 2017 = 91.5 is before the plan (2018): it cannot breach it.
			// One figure below, before the deadline: at risk, with actual and gap.
			name:   "hold: one pre-plan figure below",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 92, deadline: 2020, modality: hold, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2017: 91.5}},
			at:     "2018-06-01", status: AtRisk, basis: BasisPrePlan, actual: f(91.5), gap: f(0.5),
		},
		{
			// Breached in 2019 (87.5), met since (99 in 2020): the verdict
			// shows 2019's figure beside 2019's shortfall, not 2020's 99.
			name:   "hold: the breaching year's figure beside its gap",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 88, deadline: 2020, modality: hold, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 90, 2019: 87.5, 2020: 99}},
			at:     "2021-03-01", status: Missed, basis: BasisHoldBreach, actual: f(87.5), gap: f(0.5),
			check: func(t *testing.T, ev Evaluation) {
				if ev.Period != "2019" {
					t.Errorf("period %q, want the breaching year 2019", ev.Period)
				}
			},
		},
		{
			// The same figure in 2019 (a plan year) breaches the level.
			name:   "hold: one plan-year figure below",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 92, deadline: 2020, modality: hold, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2019: 91.5}},
			at:     "2020-03-01", status: Missed, basis: BasisHoldBreach, actual: f(91.5), gap: f(0.5),
		},
		{
			// 2017 is before the plan's start and does not count; 2018–2020 hold.
			name:   "hold kept every year",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 98, deadline: 2020, modality: hold, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2017: 97, 2018: 98.5, 2019: 98.1, 2020: 98}},
			at:     "2021-04-01", status: Achieved, basis: BasisHoldYears, actual: f(98), gap: f(0),
			check: func(t *testing.T, ev Evaluation) {
				if len(ev.Years) != 3 || ev.Years[0].Year != 2018 || ev.Years[2].State != YearMet {
					t.Errorf("years = %+v", ev.Years)
				}
			},
		},
		{
			// 99, 98.6: slope -0.4, projection 2020 = 98.2 >= 98 → still on track.
			name:   "hold so far, trend fine",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 98, deadline: 2020, modality: hold, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 99, 2019: 98.6}},
			at:     "2019-12-31", status: OnTrack, basis: BasisHoldYears, proj: f(98.2),
		},
		{
			// 99, 98.4: slope -0.6, projection 2020 = 97.8 < 98 → at risk.
			name:   "hold so far, trend crosses the line",
			target: `- {id: a, indicator: pass_rate, region: "620000", comparator: ">=", value: 98, deadline: 2020, modality: hold, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:pass_rate": {2018: 99, 2019: 98.4}},
			at:     "2019-12-31", status: AtRisk, basis: BasisProjection, proj: f(97.8),
		},
		// --- quota ("每年新增…") ---
		{
			// "每年新增100户": 260, 40, 100. The official expects the failing
			// year's shortfall, 60, with 2019 named — not the latest year's 0.
			name:   "quota: the failing year's shortfall",
			target: `- {id: a, indicator: brands_new, region: "620000", comparator: ">=", modality: quota, quotas: {2018: 100, 2019: 100, 2020: 100}, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 260, 2019: 40, 2020: 100}},
			at:     "2021-03-01", status: Missed, basis: BasisQuotaYears, actual: f(40), gap: f(60),
			check: func(t *testing.T, ev Evaluation) {
				if ev.Period != "2019" || ev.TargetValue == nil || *ev.TargetValue != 100 {
					t.Errorf("period %q target %v, want 2019 and its quota 100", ev.Period, show(ev.TargetValue))
				}
			},
		},
		{
			// "每年新增质量管理体系认证企业2000家": 2019 = 1800 missed → missed, though 2018 and 2020 were met.
			name:   "quota missed in 2019",
			target: `- {id: a, indicator: brands_new, region: "620000", comparator: ">=", modality: quota, quotas: {2018: 2000, 2019: 2000, 2020: 2000}, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 2100, 2019: 1800, 2020: 2200}},
			// The verdict shows the failing year (2019: 1800, 200 short), not the
			// latest met year with a negative gap.
			at: "2021-03-01", status: Missed, basis: BasisQuotaYears, actual: f(1800), gap: f(200),
			check: func(t *testing.T, ev Evaluation) {
				wantYear(1, YearNotMet)(t, ev)
				if ev.Period != "2019" {
					t.Errorf("period %q, want the failing year 2019", ev.Period)
				}
			},
		},
		{
			// Every closed year met, 2020 still open: on track.
			name:   "quota on track while the plan runs",
			target: `- {id: a, indicator: brands_new, region: "620000", comparator: ">=", modality: quota, quotas: {2018: 2000, 2019: 2000, 2020: 2000}, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 2100, 2019: 2050}},
			at:     "2020-05-01", status: OnTrack, basis: BasisQuotaYears, actual: f(2050),
			check: wantYear(2, YearPending),
		},
		{
			// The last plan year (2020) never reported: within its grace (March 2021) still
			// pending → on track; after it (2022) counts as not met → missed, settled.
			name:   "quota last year unreported, within grace",
			target: `- {id: a, indicator: brands_new, region: "620000", comparator: ">=", modality: quota, quotas: {2018: 2000, 2019: 2000, 2020: 2000}, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 2100, 2019: 2050}},
			at:     "2021-03-01", status: OnTrack, basis: BasisQuotaYears,
		},
		{
			name:   "quota last year never reported",
			target: `- {id: a, indicator: brands_new, region: "620000", comparator: ">=", modality: quota, quotas: {2018: 2000, 2019: 2000, 2020: 2000}, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 2100, 2019: 2050}},
			at:     "2022-03-01", status: Missed, basis: BasisQuotaYears, settled: true,
			check: func(t *testing.T, ev Evaluation) {
				if ev.Years[2].State != YearNotReported || !strings.Contains(ev.Basis.Zh, "2020年逾期未报") {
					t.Errorf("2020: %+v; basis %s", ev.Years[2], ev.Basis.Zh)
				}
			},
		},
		{
			name:   "quota every year met",
			target: `- {id: a, indicator: brands_new, region: "620000", comparator: ">=", modality: quota, quotas: {2018: 2000, 2019: 2000, 2020: 2000}, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 2100, 2019: 2050, 2020: 2000}},
			at:     "2021-07-15", status: Achieved, basis: BasisQuotaYears, settled: true,
		},
		// --- new items ("新增700个") ---
		{
			// 2018: 200, 2019: 250 → 450; 225 a year projects 675 by 2020 vs 700 → ratio 0.964 → on track.
			// The 2017 figure is before the plan and not counted.
			name:   "new items projected",
			target: `- {id: a, indicator: brands_new, region: "620000", comparator: ">=", value: 700, deadline: 2020, modality: new, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:brands_new": {2017: 999, 2018: 200, 2019: 250}},
			at:     "2019-12-31", status: OnTrack, basis: BasisSumProjection, actual: f(450), gap: f(250), progress: f(0.964), proj: f(675),
		},
		{
			name:   "new items reached early",
			target: `- {id: a, indicator: brands_new, region: "620000", comparator: ">=", value: 700, deadline: 2020, modality: new, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 400, 2019: 350}},
			at:     "2019-12-31", status: Achieved, basis: BasisSumReached, actual: f(750), gap: f(-50),
		},
		{
			name:   "new items missed at the deadline",
			target: `- {id: a, indicator: brands_new, region: "620000", comparator: ">=", value: 700, deadline: 2020, modality: new, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 200, 2019: 200, 2020: 200}},
			at:     "2021-03-01", status: Missed, basis: BasisSumAtDeadline, actual: f(600), gap: f(100),
		},
		{
			// "推动30000家企业…": no printed deadline → the horizon 2020; in 2023 it has settled:
			// 2018 + 2019 = 20000 < 30000 → missed, not on track for ever.
			name:   "count without a printed deadline settles",
			target: `- {id: a, indicator: brands_new, region: "620000", comparator: ">=", value: 30000, modality: new, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:brands_new": {2018: 10000, 2019: 10000}},
			at:     "2023-01-01", status: Missed, basis: BasisSumAtDeadline, actual: f(20000), gap: f(10000), settled: true,
		},
		// --- averages over regions ---
		{
			// Average of 3 cities computed: 2020 (80+84+85)/3 = 83 >= 82.
			name:   "average computed from every region",
			target: `- {id: a, indicator: pass_rate, average: {parent: "620000", level: prefecture}, comparator: ">=", value: 82, deadline: 2020, modality: reach, clause: x, quote: x}`,
			data: map[string]map[int]float64{
				"620100:pass_rate": {2020: 80}, "620200:pass_rate": {2020: 84}, "620300:pass_rate": {2020: 85},
			},
			at: "2021-03-01", status: Achieved, basis: BasisDeadlineFigure, actual: f(83), gap: f(-1),
		},
		{
			// 2018: all three (80, 84, 86) → 83.33; 2019: only 620100 (low, 79) and 620200 (84):
			// a mean over whoever reported would be 81.5 and fake a fall. 2019 is incomplete and
			// left out; 2018 alone is one figure ≥ 82 → on track, and the basis says 2019 was left out.
			name:   "average leaves out incomplete years",
			target: `- {id: a, indicator: pass_rate, average: {parent: "620000", level: prefecture}, comparator: ">=", value: 82, deadline: 2020, modality: reach, clause: x, quote: x}`,
			data: map[string]map[int]float64{
				"620100:pass_rate": {2018: 80, 2019: 79}, "620200:pass_rate": {2018: 84, 2019: 84}, "620300:pass_rate": {2018: 86},
			},
			at: "2020-03-01", status: OnTrack, basis: BasisOneFigure, actual: f(83.33),
			check: func(t *testing.T, ev Evaluation) {
				if len(ev.Coverage) != 2 || ev.Coverage[1].Used || ev.Coverage[1].Reported != 2 || ev.Coverage[1].Of != 3 {
					t.Errorf("coverage = %+v", ev.Coverage)
				}
				if !strings.Contains(ev.Basis.Zh, "2019年报送地区不全") {
					t.Errorf("basis does not name the incomplete year: %s", ev.Basis.Zh)
				}
			},
		},
		{
			name:   "average with no complete year",
			target: `- {id: a, indicator: pass_rate, average: {parent: "620000", level: prefecture}, comparator: ">=", value: 82, deadline: 2020, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620100:pass_rate": {2019: 80}, "620200:pass_rate": {2019: 84}},
			at:     "2020-03-01", status: NoData, basis: BasisIncompleteCoverage,
		},
		{
			// With min_coverage 2 of 3, the trend uses only the regions that reported every
			// year (620100, 620200): 2018 (80+84)/2 = 82 → 2019 (81+85)/2 = 83, slope +1.
			// Judged values are over whoever reported: 2018 (80+84+70)/3 = 78 … but the trend
			// never mixes the set with 620300's low figure: 2019 = 83, projected 84 by 2020 ≥ 82.
			name:   "average trend never mixes region sets",
			target: `- {id: a, indicator: pass_rate, average: {parent: "620000", level: prefecture, min_coverage: 2}, comparator: ">=", value: 84, deadline: 2020, modality: reach, clause: x, quote: x}`,
			data: map[string]map[int]float64{
				"620100:pass_rate": {2018: 80, 2019: 81}, "620200:pass_rate": {2018: 84, 2019: 85}, "620300:pass_rate": {2018: 70},
			},
			at: "2020-03-01", status: OnTrack, basis: BasisProjection, actual: f(83), proj: f(84),
		},
		{
			// The province's own "14市州平均" is used for the year it covers (2019: 81);
			// 2020 comes from the cities (80+84+85)/3 = 83 ≥ 82: the province figure does not
			// hide the later city figures.
			name:   "reported average and computed years",
			target: `- {id: a, indicator: pass_rate, average: {parent: "620000", level: prefecture, reported: pass_rate_mean}, comparator: ">=", value: 82, deadline: 2020, modality: reach, clause: x, quote: x}`,
			data: map[string]map[int]float64{
				"620000:pass_rate_mean": {2019: 81}, "620000:pass_rate": {2018: 99},
				"620100:pass_rate": {2020: 80}, "620200:pass_rate": {2020: 84}, "620300:pass_rate": {2020: 85},
			},
			at: "2021-03-01", status: Achieved, basis: BasisDeadlineFigure, actual: f(83),
			check: func(t *testing.T, ev Evaluation) {
				if len(ev.Coverage) != 2 || ev.Coverage[0].Source != "reported" || ev.Coverage[1].Source != "computed" {
					t.Errorf("coverage = %+v", ev.Coverage)
				}
			},
		},
		// --- a multiple of a reported figure ("数量翻一番") ---
		{
			// 2017 count 55 → target 110; 2020 count 112 → achieved.
			name:   "doubling of the 2017 count",
			target: `- {id: a, indicator: gi_count, region: "620000", comparator: ">=", multiple_of: {year: 2017, factor: 2}, deadline: 2020, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:gi_count": {2017: 55, 2020: 112}},
			at:     "2021-03-01", status: Achieved, basis: BasisDeadlineFigure, actual: f(112), gap: f(-2),
			check: func(t *testing.T, ev Evaluation) {
				if ev.TargetValue == nil || *ev.TargetValue != 110 || ev.Baseline == nil || *ev.Baseline != 55 {
					t.Errorf("target %v baseline %v, want 110 from 2 × 55", show(ev.TargetValue), show(ev.Baseline))
				}
			},
		},
		{
			// 55 (2017) → 70 (2018) → 85 (2019): slope 15, projected 100 by 2020 < 110:
			// progress (100-55)/(110-55) = 0.818 → at risk.
			name:   "doubling projected",
			target: `- {id: a, indicator: gi_count, region: "620000", comparator: ">=", multiple_of: {year: 2017, factor: 2}, deadline: 2020, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:gi_count": {2017: 55, 2018: 70, 2019: 85}},
			at:     "2020-03-01", status: AtRisk, basis: BasisProjection, proj: f(100), progress: f(0.818),
		},
		{
			name:   "doubling without the reference figure",
			target: `- {id: a, indicator: gi_count, region: "620000", comparator: ">=", multiple_of: {year: 2017, factor: 2}, deadline: 2020, modality: reach, clause: x, quote: x}`,
			data:   map[string]map[int]float64{"620000:gi_count": {2019: 80}},
			at:     "2020-03-01", status: NoData, basis: BasisNoReference,
			check: func(t *testing.T, ev Evaluation) {
				if ev.TargetValue != nil {
					t.Errorf("target value %v without its reference figure", *ev.TargetValue)
				}
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) { runRule(t, c) })
	}
}

// Untracked commitments are listed by the plan but never judged.
func TestUntrackedNotJudged(t *testing.T) {
	set := fixture(t, reachT+"\n"+`- {id: u, tracked: false, reason: "no statistic counts champions per industry", clause: x, quote: "在每个行业、领域培育10个以上单项冠军"}`)
	if n := len(set.Targets("")); n != 2 {
		t.Fatalf("plan lists %d targets, want 2", n)
	}
	got := (&Evaluator{Set: set}).Evaluate(NewData(nil), "", day("2019-01-01"))
	if len(got) != 1 || got[0].Target != "a" {
		t.Fatalf("evaluations = %+v, want only the tracked target", got)
	}
}

// Every evaluation carries what an official needs to read it.
func TestEvaluationCarriesThePlanText(t *testing.T) {
	set := fixture(t, `- {id: a, indicator: pass_rate, wording: 制造业产品质量抽查合格率, region: "620000", comparator: ">=", value: 96, deadline: 2020, modality: reach, lead_agencies: [省市场监管局], agencies: [省工信厅, 省农业农村厅], clause: "二(四)", quote: "到2020年,制造业产品质量抽查合格率达到96%以上"}`)
	ev := (&Evaluator{Set: set}).Evaluate(NewData(nil), "", day("2019-01-01"))[0]
	if ev.Clause != "二(四)" || !strings.Contains(ev.Quote, "达到96%以上") || ev.Wording != "制造业产品质量抽查合格率" || ev.NameZh != "合格率" {
		t.Errorf("clause %q quote %q wording %q name %q", ev.Clause, ev.Quote, ev.Wording, ev.NameZh)
	}
	if len(ev.LeadAgencies) != 1 || len(ev.ResponsibleAgencies) != 2 {
		t.Errorf("agencies %v / %v", ev.LeadAgencies, ev.ResponsibleAgencies)
	}
}

// The basis sentence states the target as printed in the plan.
func TestBasisNamesTheTarget(t *testing.T) {
	ev := runRule(t, ruleCase{target: reachT, data: map[string]map[int]float64{"620000:pass_rate": {2020: 95.5}},
		at: "2021-03-01", status: Missed, basis: BasisDeadlineFigure})
	if !strings.Contains(ev.Basis.Zh, "≥ 96%") || !strings.Contains(ev.Basis.En, "95.5%") {
		t.Errorf("basis %q / %q", ev.Basis.Zh, ev.Basis.En)
	}
}

// wantYear checks that a quota target lists the plan's three years and
// that year i (0 = 2018) is in state want.
func wantYear(i int, want string) func(*testing.T, Evaluation) {
	return func(t *testing.T, ev Evaluation) {
		t.Helper()
		if len(ev.Years) != 3 || ev.Years[i].State != want {
			t.Errorf("years = %+v", ev.Years)
		}
	}
}
