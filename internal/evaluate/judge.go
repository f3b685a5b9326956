package evaluate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/period"
	"github.com/qualitymon/qualitymon/internal/plan"
)

// judge applies the rules of one modality to one target in one region.
type judge struct {
	t  *plan.Target
	ev *Evaluation
	at time.Time
	// due is the deadline year in force; settled once its grace passed.
	due     int
	settled bool
	grace   time.Duration
	// all: every yearly figure up to the evaluation year; s: those up to
	// the deadline (the only ones that decide); trend: the figures a trend
	// is fitted on (for averages, over one set of regions).
	all, s, trend Series
	value         float64
	d             describe
}

func ptr(f float64) *float64 { return &f }

// met applies the comparator to the target value.
func (j *judge) met(v float64) bool { return plan.Compare(j.t.Comparator, v, j.value) }

// gap is the shortfall in the indicator's unit: positive when not met.
func gap(cmp string, higherBetter bool, actual, target float64) float64 {
	return (target - actual) * direction(cmp, higherBetter)
}

// direction is +1 when the target asks for a higher value, -1 for lower.
func direction(cmp string, higherBetter bool) float64 {
	switch cmp {
	case ">=", ">":
		return 1
	case "<=", "<":
		return -1
	}
	if higherBetter {
		return 1
	}
	return -1
}

func (j *judge) dir() float64 { return direction(j.t.Comparator, j.t.Ind.HigherIsBetter()) }

func (j *judge) setActual(p Point) {
	j.ev.Actual = ptr(p.Value)
	j.ev.Period = period.OfYear(p.Year).String()
	j.ev.Gap = ptr(gap(j.t.Comparator, j.t.Ind.HigherIsBetter(), p.Value, j.value))
}

// closed reports whether year y has ended and its grace passed.
func (j *judge) closed(y int) bool {
	return j.at.After(period.OfYear(y).EndIn(j.at.Location()).Add(j.grace))
}

// clamp keeps a projection within the indicator's valid range.
func (j *judge) clamp(v float64) float64 {
	ind := j.t.Ind
	if ind.Min != nil && v < *ind.Min {
		return *ind.Min
	}
	if ind.Max != nil && v > *ind.Max {
		return *ind.Max
	}
	return v
}

// planPeriod is the figures from the plan's first year to the deadline.
func (j *judge) planPeriod() Series { return j.s.from(j.t.Plan.Start) }

// nothing sets no_data: no figure at all, or (once settled, or for
// additions) none from the plan period.
func (j *judge) nothing() {
	j.ev.Status = NoData
	start, due := j.t.Plan.Start, j.due
	switch {
	case len(j.all) == 0:
		j.ev.Basis = basis(BasisNoFigure, "没有任何数据。", "No figure has been reported.")
	default:
		j.ev.Basis = basis(BasisNoPlanFigure,
			fmt.Sprintf("没有规划期(%d—%d年)内的数据,已有数据不能判定。", start, due),
			fmt.Sprintf("No figure from the plan period %d–%d; the figures held cannot decide the target.", start, due))
	}
}

// resolveMultiple sets the value of a target stated as a multiple of a
// reported figure; false when that figure is missing (no_data).
func (j *judge) resolveMultiple() bool {
	m := j.t.MultipleOf
	if m == nil {
		j.ev.TargetValue = ptr(j.value)
		if j.t.Baseline != nil {
			j.ev.Baseline = ptr(j.t.Baseline.Value)
		}
		return true
	}
	ref, ok := j.all.at(m.Year)
	if !ok {
		j.ev.Status = NoData
		j.ev.Basis = basis(BasisNoReference,
			fmt.Sprintf("目标为%d年数据的%s倍,但%d年数据尚未报送。", m.Year, fmtNum(m.Factor, 2), m.Year),
			fmt.Sprintf("The target is %s times the %d figure, which has not been reported.", fmtNum(m.Factor, 2), m.Year))
		return false
	}
	j.value = ref * m.Factor
	j.d.value = j.value
	j.ev.TargetValue = ptr(j.value)
	j.ev.Baseline = ptr(ref)
	return true
}

// baseline is the starting point progress is measured from: the stated
// baseline, the multiple's reference figure, else the first figure of the
// trend.
func (j *judge) baseline(trend Series) (Point, bool) {
	if b := j.t.Baseline; b != nil {
		return Point{b.Year, b.Value}, true
	}
	if m := j.t.MultipleOf; m != nil {
		return Point{m.Year, j.value / m.Factor}, true
	}
	if len(trend) > 0 {
		return trend[0], true
	}
	return Point{}, false
}

// trendSeries is what the trend is fitted on: figures from the baseline year
// (stated, or the year before the plan starts) to the deadline, with a stated
// baseline as a point.
func (j *judge) trendSeries() Series {
	startYear := j.t.Plan.Start - 1
	var stated *Point
	if b := j.t.Baseline; b != nil {
		startYear, stated = b.Year, &Point{b.Year, b.Value}
	} else if m := j.t.MultipleOf; m != nil {
		startYear, stated = m.Year, &Point{m.Year, j.value / m.Factor}
	}
	s := slices.Clone(j.trend.from(startYear))
	if stated != nil {
		if _, ok := s.at(stated.Year); !ok {
			s = append(Series{*stated}, s...)
		}
	}
	return s
}

// reach: the deadline year's figure decides; once settled without it, the
// last figure of the plan period; before, a plan-period figure meeting the
// target is achieved, else the trend projected to the deadline.
func (j *judge) reach() {
	ev := j.ev
	if v, ok := j.s.at(j.due); ok {
		j.setActual(Point{j.due, v})
		ev.Status = statusOf(j.met(v))
		ev.Basis = j.d.figure(BasisDeadlineFigure, j.due, v, j.met(v), "截止年", "The deadline year decides: ")
		return
	}
	pp := j.planPeriod()
	if j.settled {
		if len(pp) == 0 {
			j.nothing()
			return
		}
		last := pp[len(pp)-1]
		j.setActual(last)
		ev.Status = statusOf(j.met(last.Value))
		ev.Basis = j.d.figure(BasisLastBeforeDeadline, last.Year, last.Value, j.met(last.Value),
			fmt.Sprintf("截止年(%d年)数据逾期未报,以最后一个规划期数据判定:", j.due),
			fmt.Sprintf("The deadline-year (%d) figure was never reported; the last plan-period figure decides: ", j.due))
		return
	}
	if len(j.s) == 0 {
		j.nothing()
		return
	}
	latest := j.s[len(j.s)-1]
	j.setActual(latest)
	if j.met(latest.Value) {
		if latest.Year >= j.t.Plan.Start && len(j.s) == 1 {
			ev.Status = OnTrack
			ev.Basis = j.d.figure(BasisOneFigure, latest.Year, latest.Value, true, "仅有一个数据,尚无趋势:", "One figure only, no trend yet: ")
			return
		}
		if latest.Year >= j.t.Plan.Start {
			ev.Status = Achieved
			ev.Basis = j.d.figure(BasisMetEarly, latest.Year, latest.Value, true, "",
				fmt.Sprintf("Before the deadline year (%d) closes: ", j.due))
			ev.Basis.Zh = strings.TrimSuffix(ev.Basis.Zh, "。") + fmt.Sprintf(",已提前达标(截止年%d年数据待确认)。", j.due)
			return
		}
		ev.Status = OnTrack
		ev.Basis = j.prePlan(latest)
		return
	}
	j.project(latest)
}

// prePlan explains a status that rests only on figures from before the plan.
func (j *judge) prePlan(p Point) Basis {
	b := j.d.figure(BasisPrePlan, p.Year, p.Value, j.met(p.Value), "仅有规划实施前的数据:", "Only figures from before the plan: ")
	b.Zh = strings.TrimSuffix(b.Zh, "。") + fmt.Sprintf(";规划实施前(%d年以前)的数据不能判定达标或未达标。", j.t.Plan.Start)
	b.En += fmt.Sprintf(" A figure from before %d can neither achieve nor breach the target.", j.t.Plan.Start)
	return b
}

// project sets Projected, Progress and the status from the trend of the
// figures up to the deadline; it never projects backwards (latest is before
// the deadline year).
func (j *judge) project(latest Point) {
	ev := j.ev
	ts := j.trendSeries()
	base, _ := j.baseline(ts)
	dir := j.dir()
	required := (j.value - base.Value) * dir
	if len(ts) < 2 {
		ev.Status = AtRisk
		ev.Basis = j.d.figure(BasisOneFigure, latest.Year, latest.Value, false, "仅有一个数据,尚无趋势:", "One figure only, no trend yet: ")
		if latest.Year < j.t.Plan.Start {
			ev.Basis.Code = BasisPrePlan
			ev.Basis = j.prePlan(latest)
		}
		ev.Basis.Zh = strings.TrimSuffix(ev.Basis.Zh, "。") + ",需加快进度。"
		if required > 0 && base.Year != latest.Year {
			ev.Progress = ptr(((latest.Value - base.Value) * dir) / required)
		}
		return
	}
	slope := ts.slope()
	projected := j.clamp(latest.Value + slope*float64(j.due-latest.Year))
	ev.Projected = ptr(projected)
	first, lastYear := ts[0].Year, ts[len(ts)-1].Year
	nzh := fmt.Sprintf("按%d—%d年%d个数据的趋势,预计%d年达到 %s", first, lastYear, len(ts), j.due, j.d.n(projected))
	nen := fmt.Sprintf("The trend of %d figures %d–%d projects %s by %d", len(ts), first, lastYear, j.d.n(projected), j.due)
	switch {
	case j.met(projected):
		ev.Status = OnTrack
		if required > 0 {
			ev.Progress = ptr(((projected - base.Value) * dir) / required)
		}
		ev.Basis = basis(BasisProjection, nzh+fmt.Sprintf(",可达到目标(%s)。", j.d.target()),
			nen+fmt.Sprintf(", meeting the target (%s).", j.d.target()))
	case required <= 0:
		// Met when the plan started, short of it now and heading away.
		ev.Status = OffTrack
		ev.Basis = basis(BasisProjection, nzh+fmt.Sprintf(",基期已达标但现已倒退,达不到目标(%s)。", j.d.target()),
			nen+fmt.Sprintf(": the target (%s) was met at the baseline and has been lost since.", j.d.target()))
	default:
		ratio := ((projected - base.Value) * dir) / required
		ev.Progress = ptr(ratio)
		ev.Status = fromRatio(ratio)
		ev.Basis = basis(BasisProjection,
			nzh+fmt.Sprintf(",完成所需进度的%s%%(以%d年 %s 为基期),达不到目标(%s)。", fmtNum(ratio*100, 0), base.Year, j.d.n(base.Value), j.d.target()),
			nen+fmt.Sprintf(": %s%% of the progress required from %s in %d; short of the target (%s).", fmtNum(ratio*100, 0), j.d.n(base.Value), base.Year, j.d.target()))
	}
}

// hold: every plan year up to the deadline must meet the value; any plan
// year below breaches it for good. Figures from before the plan can neither
// breach nor achieve it.
func (j *judge) hold() {
	ev := j.ev
	pp := j.planPeriod()
	for y := j.t.Plan.Start; y <= j.due; y++ {
		yj := YearJudgement{Year: y, Target: ptr(j.value)}
		switch v, ok := pp.at(y); {
		case ok:
			yj.Actual = ptr(v)
			yj.State = yearState(j.met(v))
		case y > j.at.Year():
			yj.State = YearFuture
		case j.closed(y):
			yj.State = YearNotReported
		default:
			yj.State = YearPending
		}
		ev.Years = append(ev.Years, yj)
	}
	if len(pp) == 0 {
		if j.settled || len(j.s) == 0 {
			j.nothing()
			return
		}
		latest := j.s[len(j.s)-1]
		j.setActual(latest)
		ev.Status = statusOf2(j.met(latest.Value), OnTrack, AtRisk)
		ev.Basis = j.prePlan(latest)
		return
	}
	var breached, unreported []int
	for _, y := range ev.Years {
		switch y.State {
		case YearNotMet:
			breached = append(breached, y.Year)
		case YearNotReported:
			unreported = append(unreported, y.Year)
		}
	}
	j.setActual(pp[len(pp)-1])
	if len(breached) > 0 {
		ev.Status = Missed
		// The verdict shows the year that breached the level most: its
		// figure, its year and its shortfall, side by side.
		w := j.worstYear()
		j.setActual(Point{Year: w.Year, Value: *w.Actual})
		zh, en := years(breached)
		ev.Basis = basis(BasisHoldBreach,
			fmt.Sprintf("须每年保持 %s,%s年低于该水平,目标未实现。", j.d.target(), zh),
			fmt.Sprintf("The level (%s) must hold every plan year; it fell below in %s.", j.d.target(), en))
		return
	}
	_, hasDue := pp.at(j.due)
	reportedZh, reportedEn := years(yearsOf(pp))
	zh := fmt.Sprintf("规划期已报送的各年(%s)均保持 %s", reportedZh, j.d.target())
	en := fmt.Sprintf("Every plan year reported (%s) holds %s", reportedEn, j.d.target())
	if len(unreported) > 0 {
		uz, ue := years(unreported)
		zh += fmt.Sprintf(";%s年未报送", uz)
		en += fmt.Sprintf("; %s not reported", ue)
	}
	switch {
	case j.settled || hasDue:
		ev.Status = Achieved
		ev.Basis = basis(BasisHoldYears, zh+"。", en+".")
	default:
		ev.Status = OnTrack
		ev.Basis = basis(BasisHoldYears, zh+",截止年前继续跟踪。", en+"; followed until the deadline.")
		// Warn when the trend will cross the line before the deadline.
		if len(pp) >= 2 {
			last := pp[len(pp)-1]
			p := j.clamp(last.Value + pp.slope()*float64(j.due-last.Year))
			ev.Projected = ptr(p)
			if !j.met(p) {
				ev.Status = AtRisk
				ev.Basis = basis(BasisProjection,
					zh+fmt.Sprintf(",但按趋势%d年将降至 %s,低于该水平。", j.due, j.d.n(p)),
					en+fmt.Sprintf(", but the trend falls to %s by %d, below the level.", j.d.n(p), j.due))
			}
		}
	}
}

func yearsOf(s Series) []int {
	out := make([]int, len(s))
	for i, p := range s {
		out[i] = p.Year
	}
	return out
}

func yearState(met bool) string {
	if met {
		return YearMet
	}
	return YearNotMet
}

func statusOf(met bool) Status { return statusOf2(met, Achieved, Missed) }

func statusOf2(met bool, yes, no Status) Status {
	if met {
		return yes
	}
	return no
}

// quota: each quota year is judged against its quota; a closed year without
// a figure after its grace counts as not met. Missed as soon as one year is;
// achieved when every year is met; on track while the plan runs.
func (j *judge) quota() {
	ev := j.ev
	t := j.t
	qys := make([]int, 0, len(t.Quotas))
	for y := range t.Quotas {
		qys = append(qys, y)
	}
	slices.Sort(qys)
	var judged *YearJudgement
	var missed, unreported, pending []int
	reported := false
	for _, y := range qys {
		q := t.Quotas[y]
		yj := YearJudgement{Year: y, Target: ptr(q)}
		switch v, ok := j.s.at(y); {
		case ok:
			reported = true
			yj.Actual = ptr(v)
			yj.State = yearState(plan.Compare(t.Comparator, v, q))
			if yj.State == YearNotMet {
				missed = append(missed, y)
			}
		case y > j.at.Year():
			yj.State = YearFuture
			pending = append(pending, y)
		case j.closed(y):
			yj.State = YearNotReported
			unreported = append(unreported, y)
		default:
			yj.State = YearPending
			pending = append(pending, y)
		}
		ev.Years = append(ev.Years, yj)
		if yj.Actual != nil {
			judged = &ev.Years[len(ev.Years)-1]
		}
	}
	if !reported {
		j.nothing()
		if len(unreported) > 0 {
			zh, en := years(unreported)
			ev.Basis.Zh = strings.TrimSuffix(ev.Basis.Zh, "。") + fmt.Sprintf(";%s年已逾期未报。", zh)
			ev.Basis.En = strings.TrimSuffix(ev.Basis.En, ".") + fmt.Sprintf("; %s overdue.", en)
		}
		return
	}
	if len(missed) > 0 {
		// A missed year decides the verdict: show the one that fell
		// furthest short (its figure, year and shortfall), not the latest.
		w := j.worstYear()
		judged = &w
	}
	ev.TargetValue = ptr(*judged.Target)
	ev.Actual = ptr(*judged.Actual)
	ev.Period = period.OfYear(judged.Year).String()
	ev.Gap = ptr(gap(t.Comparator, t.Ind.HigherIsBetter(), *judged.Actual, *judged.Target))
	var zh, en []string
	for _, y := range ev.Years {
		switch y.State {
		case YearMet:
			zh = append(zh, fmt.Sprintf("%d年 %s(达标)", y.Year, j.d.n(*y.Actual)))
			en = append(en, fmt.Sprintf("%d %s (met)", y.Year, j.d.n(*y.Actual)))
		case YearNotMet:
			zh = append(zh, fmt.Sprintf("%d年 %s(未达到 %s)", y.Year, j.d.n(*y.Actual), j.d.n(*y.Target)))
			en = append(en, fmt.Sprintf("%d %s (below %s)", y.Year, j.d.n(*y.Actual), j.d.n(*y.Target)))
		case YearNotReported:
			zh = append(zh, fmt.Sprintf("%d年逾期未报(按未完成计)", y.Year))
			en = append(en, fmt.Sprintf("%d not reported after its grace (counts as not met)", y.Year))
		case YearPending:
			zh = append(zh, fmt.Sprintf("%d年待报", y.Year))
			en = append(en, fmt.Sprintf("%d pending", y.Year))
		case YearFuture:
			zh = append(zh, fmt.Sprintf("%d年未开始", y.Year))
			en = append(en, fmt.Sprintf("%d not begun", y.Year))
		}
	}
	lead := "每年指标逐年判定:"
	switch {
	case len(missed)+len(unreported) > 0:
		ev.Status = Missed
	case len(pending) == 0:
		ev.Status = Achieved
	default:
		ev.Status = OnTrack
	}
	ev.Basis = basis(BasisQuotaYears, lead+strings.Join(zh, ";")+"。", "Yearly quotas, year by year: "+strings.Join(en, "; ")+".")
}

// worstYear is the year of ev.Years that fell furthest short of its own
// target (the latest of equals); the caller knows there is one (YearNotMet).
func (j *judge) worstYear() YearJudgement {
	var w YearJudgement
	worst := -1.0
	for _, y := range j.ev.Years {
		if y.State != YearNotMet {
			continue
		}
		if g := gap(j.t.Comparator, j.t.Ind.HigherIsBetter(), *y.Actual, *y.Target); g >= worst {
			w, worst = y, g
		}
	}
	return w
}

// sum: a "new items" target adds the indicator's yearly flow from the plan's
// first year to the deadline; before the deadline the average yearly
// addition so far is projected over the remaining years.
func (j *judge) sum() {
	ev := j.ev
	t := j.t
	pp := j.planPeriod()
	if len(pp) == 0 {
		j.nothing()
		return
	}
	total := 0.0
	for _, p := range pp {
		total += p.Value
	}
	last := pp[len(pp)-1]
	ev.Actual = ptr(total)
	ev.Period = fmt.Sprintf("%d..%d", t.Plan.Start, last.Year)
	ev.Gap = ptr(gap(t.Comparator, t.Ind.HigherIsBetter(), total, j.value))
	ev.Baseline = ptr(0)
	var missing []int
	for y := t.Plan.Start; y <= min(last.Year, j.due); y++ {
		if _, ok := pp.at(y); !ok {
			missing = append(missing, y)
		}
	}
	zh := fmt.Sprintf("%d—%d年累计新增 %s", t.Plan.Start, last.Year, j.d.n(total))
	en := fmt.Sprintf("Additions %d–%d total %s", t.Plan.Start, last.Year, j.d.n(total))
	if len(missing) > 0 {
		mz, me := years(missing)
		zh += fmt.Sprintf("(%s年未报送)", mz)
		en += fmt.Sprintf(" (%s not reported)", me)
	}
	grows := j.dir() > 0
	done := j.settled || last.Year >= j.due
	switch {
	case j.met(total) && (grows || done):
		// Additions only grow: a reached sum stays reached.
		ev.Status = Achieved
		ev.Basis = basis(BasisSumReached, zh+fmt.Sprintf(",达到目标(%s)。", j.d.target()), en+fmt.Sprintf(", meeting the target (%s).", j.d.target()))
		return
	case done:
		ev.Status = Missed
		ev.Basis = basis(BasisSumAtDeadline, zh+fmt.Sprintf(",截至%d年未达到目标(%s)。", j.due, j.d.target()),
			en+fmt.Sprintf(": short of the target (%s) at the deadline %d.", j.d.target(), j.due))
		return
	}
	perYear := total / float64(last.Year-t.Plan.Start+1)
	projected := total + perYear*float64(j.due-last.Year)
	ev.Projected = ptr(projected)
	ratio := projected / j.value
	ev.Progress = ptr(ratio)
	if j.met(projected) {
		ev.Status = OnTrack
	} else {
		ev.Status = fromRatio(ratio)
	}
	ev.Basis = basis(BasisSumProjection,
		zh+fmt.Sprintf(",按年均新增 %s 推算,%d年累计 %s(目标 %s)。", j.d.n(perYear), j.due, j.d.n(projected), j.d.target()),
		en+fmt.Sprintf("; at %s a year, %s by %d (target %s).", j.d.n(perYear), j.d.n(projected), j.due, j.d.target()))
}

// noteCoverage adds, for an average, which years were left out for want of
// regions, and says so when no year could be used.
func (j *judge) noteCoverage() {
	ev := j.ev
	var incomplete []int
	used := 0
	for _, y := range ev.Coverage {
		if y.Used {
			used++
		} else {
			incomplete = append(incomplete, y.Year)
		}
	}
	if len(incomplete) == 0 {
		return
	}
	zh, en := years(incomplete)
	if used == 0 {
		ev.Status = NoData
		ev.Actual, ev.Gap, ev.Period, ev.Projected, ev.Progress = nil, nil, "", nil, nil
		ev.Basis = basis(BasisIncompleteCoverage,
			fmt.Sprintf("平均值须各地区均报送:%s年报送不全,不计算平均值。", zh),
			fmt.Sprintf("An average needs every region: %s had too few regions reporting and are left out.", en))
		return
	}
	ev.Basis.Zh += fmt.Sprintf("(%s年报送地区不全,未计入平均值。)", zh)
	ev.Basis.En += fmt.Sprintf(" (%s left out: too few regions reported.)", en)
}
